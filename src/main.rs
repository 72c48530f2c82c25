//! The `sluice` command: one binary for every role. Each subcommand is a thin wrapper over a
//! library crate, so tests drive the same code in-process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

mod dev;
mod signal;

/// Sluice: a multi-tenant gateway for Server-Sent Events.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "SLUICE_LOG_FORMAT",
        default_value = "pretty"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a data-plane node: standalone from a config file (reloaded when it changes), or
    /// managed by a control plane.
    DataPlane(DataPlaneArgs),
    /// Run everything on this machine: a control plane on SQLite, one managed node and the
    /// demo upstream, with a demo tenant; prints the console URL, tokens and a curl line.
    Dev(DevArgs),
    /// Run the control plane: store, admin REST API and console, gRPC config push.
    ControlPlane(ControlPlaneArgs),
    /// Check a config file: exit 0 when valid, 1 with every error printed.
    Validate {
        /// The file to check.
        file: PathBuf,
    },
    /// Print the Sluice declarative file equivalent to a Zilla `zilla.yaml` (with a report of
    /// what was mapped, what is not supported and where behaviour differs), or to an AsyncAPI
    /// 2.6 or 3.0 document (one tenant: `--tenant` and `--upstream` needed).
    Import {
        /// The file to import.
        file: PathBuf,
        /// Zilla: leave out unsupported parts (listed in the report) instead of refusing.
        #[arg(long)]
        allow_partial: bool,
        /// AsyncAPI: the tenant the channels become routes of.
        #[arg(long)]
        tenant: Option<String>,
        /// AsyncAPI: the upstream base URL; a route's upstream is this plus the channel address.
        #[arg(long)]
        upstream: Option<String>,
    },
    /// Print a tenant of a declarative file as an AsyncAPI 3.0 document (JSON).
    Export {
        /// The declarative file.
        #[arg(long)]
        config: PathBuf,
        /// The tenant to export.
        #[arg(long)]
        tenant: String,
        /// Base URL for the document's servers (default: the tenant's hosts).
        #[arg(long)]
        servers: Option<String>,
    },
    /// Mint a test JWT signed with a private key (PKCS#8 PEM), printed on stdout.
    Token(TokenArgs),
    /// Run the demo SSE upstream (`GET /stream/{name}`, `GET /events`, `POST /publish/{name}`).
    DemoUpstream {
        /// Address to listen on.
        #[arg(long, env = "SLUICE_LISTEN", default_value = "127.0.0.1:8001")]
        listen: SocketAddr,
        /// Time between generated events, for example `1s` or `250ms`.
        #[arg(long, env = "SLUICE_INTERVAL", default_value = "1s", value_parser = parse_duration)]
        interval: Duration,
    },
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["config", "control_plane"])))]
struct DataPlaneArgs {
    /// The declarative config file (version 1); listeners come from the file.
    #[arg(long, env = "SLUICE_CONFIG")]
    config: Option<PathBuf>,
    /// The control plane's gRPC URL, for a managed node.
    #[arg(long, env = "SLUICE_CONTROL_PLANE", requires = "node_token")]
    control_plane: Option<String>,
    /// A CA certificate (PEM) for an https control plane.
    #[arg(long, env = "SLUICE_CONTROL_PLANE_CA")]
    control_plane_ca: Option<PathBuf>,
    /// The node token issued by the control plane.
    #[arg(long, env = "SLUICE_NODE_TOKEN")]
    node_token: Option<String>,
    /// This node's id (default: the host name).
    #[arg(long, env = "SLUICE_NODE_ID")]
    node_id: Option<String>,
    /// Client-facing address of a managed node.
    #[arg(long, env = "SLUICE_LISTEN", default_value = "0.0.0.0:7143")]
    listen: String,
    /// TLS certificate chain (PEM) for the managed listener.
    #[arg(long, env = "SLUICE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for the managed listener.
    #[arg(long, env = "SLUICE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Admin address (`/healthz`, `/readyz`, `/metrics`, `/config`) of a managed node.
    #[arg(long, env = "SLUICE_ADMIN_LISTEN", default_value = "127.0.0.1:9090")]
    admin_listen: String,
    /// A fixed address for an upstream host name, `NAME=IP` (like curl's `--resolve`);
    /// repeatable, or comma-separated in the environment.
    #[arg(long, env = "SLUICE_RESOLVE", value_delimiter = ',', value_parser = parse_resolve)]
    resolve: Vec<(String, std::net::IpAddr)>,
    /// Where a managed node keeps its last applied snapshot.
    #[arg(
        long,
        env = "SLUICE_CACHE_DIR",
        default_value = "./sluice-data/node-cache"
    )]
    cache_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct DevArgs {
    /// Where the SQLite file, the dev tokens and the node cache live.
    #[arg(long, env = "SLUICE_DATA_DIR", default_value = "./sluice-data")]
    data_dir: PathBuf,
    /// Admin API and console address.
    #[arg(long, default_value = "127.0.0.1:7070")]
    console: String,
    /// gRPC config API address.
    #[arg(long, default_value = "127.0.0.1:7071")]
    grpc: String,
    /// The node's client address.
    #[arg(long, default_value = "127.0.0.1:7080")]
    node: String,
    /// The node's admin address.
    #[arg(long, default_value = "127.0.0.1:9090")]
    node_admin: String,
    /// The demo upstream's address.
    #[arg(long, default_value = "127.0.0.1:8001")]
    upstream: String,
}

#[derive(Debug, clap::Args)]
struct ControlPlaneArgs {
    /// A Postgres URL (`postgres://…`); without one an embedded SQLite file in `--data-dir`.
    #[arg(long, env = "SLUICE_DATABASE_URL")]
    database_url: Option<String>,
    /// Where the SQLite file lives.
    #[arg(long, env = "SLUICE_DATA_DIR", default_value = "./sluice-data")]
    data_dir: PathBuf,
    /// The first global admin token (generated and printed once when absent).
    #[arg(long, env = "SLUICE_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Address of the admin REST API and console.
    #[arg(long, env = "SLUICE_LISTEN", default_value = "127.0.0.1:7070")]
    listen: String,
    /// Address of the gRPC config API.
    #[arg(long, env = "SLUICE_GRPC_LISTEN", default_value = "127.0.0.1:7071")]
    grpc_listen: String,
    /// TLS certificate (PEM) for the gRPC listener.
    #[arg(long, env = "SLUICE_GRPC_TLS_CERT", requires = "grpc_tls_key")]
    grpc_tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for the gRPC listener.
    #[arg(long, env = "SLUICE_GRPC_TLS_KEY", requires = "grpc_tls_cert")]
    grpc_tls_key: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The private key (PKCS#8 PEM).
    #[arg(long)]
    key: PathBuf,
    /// Signing algorithm: RS256/384/512, PS256/384/512, ES256, ES384 or EdDSA.
    #[arg(long, default_value = "RS256")]
    alg: String,
    /// The key id (`kid` header). Thumbprint ids may start with `-`, so any value is taken.
    #[arg(long, allow_hyphen_values = true)]
    kid: Option<String>,
    /// Subject (`sub`).
    #[arg(long)]
    sub: String,
    /// Scopes, space-separated (`scope`).
    #[arg(long, default_value = "")]
    scope: String,
    /// Issuer (`iss`).
    #[arg(long, default_value = "https://auth.example.com")]
    iss: String,
    /// Audience (`aud`).
    #[arg(long, default_value = "https://api.example.com")]
    aud: String,
    /// Lifetime from now, e.g. `30s`, `1h`.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    exp: Duration,
}

fn parse_resolve(text: &str) -> Result<(String, std::net::IpAddr), String> {
    let (name, ip) = text.split_once('=').ok_or("write NAME=IP")?;
    let ip = ip
        .parse()
        .map_err(|_| format!("`{ip}` is not an IP address"))?;
    Ok((name.to_ascii_lowercase(), ip))
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    sluice_data_plane::config::parse_duration(text).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    sluice_data_plane::tls::install_crypto_provider();
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli.command))
}

/// The async runtime: one thread per core this process may use. With a single core (a cgroup
/// quota or `taskset` of one CPU) a worker thread would only add hand-offs between it and the
/// main thread, so everything runs on the main thread.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Runtime::new()
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(command: Command) -> ExitCode {
    match command {
        Command::DataPlane(args) => data_plane(args).await,
        Command::Dev(args) => {
            let ports = dev::Ports {
                console: args.console,
                grpc: args.grpc,
                node: args.node,
                node_admin: args.node_admin,
                upstream: args.upstream,
            };
            match dev::run(args.data_dir, ports, signal::terminate()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("sluice dev: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::ControlPlane(args) => control_plane(args).await,
        Command::Validate { file } => validate(&file),
        Command::Token(args) => token(args),
        Command::Import {
            file,
            allow_partial,
            tenant,
            upstream,
        } => match (tenant, upstream) {
            (Some(tenant), Some(upstream)) => import_asyncapi(&file, &tenant, &upstream),
            (None, None) => import(&file, allow_partial),
            _ => {
                eprintln!("an AsyncAPI import needs both --tenant and --upstream");
                ExitCode::FAILURE
            }
        },
        Command::Export {
            config,
            tenant,
            servers,
        } => export(&config, &tenant, servers.as_deref()),
        Command::DemoUpstream { listen, interval } => demo_upstream(listen, interval).await,
    }
}

async fn data_plane(args: DataPlaneArgs) -> ExitCode {
    let started = match (&args.config, &args.control_plane) {
        (Some(config), _) => {
            let resolver =
                sluice_data_plane::upstream::Resolver::new(args.resolve.into_iter().collect());
            sluice_data_plane::start_from_file_with(config, resolver, signal::terminate()).await
        }
        (None, _) => {
            let options = managed_options(args);
            sluice_data_plane::managed::start_managed(options, signal::terminate()).await
        }
    };
    match started {
        Ok(node) => {
            node.wait().await;
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn control_plane(args: ControlPlaneArgs) -> ExitCode {
    let bind = |address: String| async move {
        tokio::net::TcpListener::bind(&address)
            .await
            .map_err(|error| format!("cannot listen on {address}: {error}"))
    };
    let listeners = match (bind(args.listen).await, bind(args.grpc_listen).await) {
        (Ok(http), Ok(grpc)) => (http, grpc),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let options = sluice_control_plane::ControlPlaneOptions {
        database_url: args.database_url,
        data_dir: args.data_dir,
        admin_token: args.admin_token,
        grpc_tls: args.grpc_tls_cert.zip(args.grpc_tls_key),
    };
    let started =
        sluice_control_plane::start(options, listeners.0, listeners.1, signal::terminate()).await;
    let running = match started {
        Ok(running) => running,
        Err(error) => {
            eprintln!("the control plane did not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(token) = &running.generated_admin_token {
        println!("first admin token (shown once): {token}");
    }
    println!("admin API and console: http://{}/", running.http_addr);
    println!("gRPC config API: http://{}", running.grpc_addr);
    match running.wait().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn managed_options(args: DataPlaneArgs) -> sluice_data_plane::managed::ManagedOptions {
    use sluice_data_plane::config::{HttpVersion, Listener, TlsSource};
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(certificate), Some(private_key)) => Some(TlsSource::Pem {
            certificate,
            private_key,
        }),
        _ => None,
    };
    let listener = Listener {
        address: args.listen,
        versions: vec![HttpVersion::Http1, HttpVersion::H2],
        tls,
    };
    sluice_data_plane::managed::ManagedOptions {
        control_plane: args.control_plane.unwrap_or_default(),
        control_plane_ca: args.control_plane_ca,
        node_token: args.node_token.unwrap_or_default(),
        node_id: args.node_id.unwrap_or_else(host_name),
        labels: Default::default(),
        cache_dir: Some(args.cache_dir),
        listeners: vec![listener],
        admin: Some(args.admin_listen),
        extra_check: None,
    }
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "sluice-node".to_owned())
}

fn validate(file: &std::path::Path) -> ExitCode {
    let state = sluice_data_plane::node::NodeState::default();
    match sluice_data_plane::reload::load_file(file, &state, 1) {
        Ok(snapshot) => {
            let routes: usize = snapshot.tenants.iter().map(|t| t.routes.len()).sum();
            println!(
                "{}: valid ({} tenants, {routes} routes)",
                file.display(),
                snapshot.tenants.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{}: {} error(s)", file.display(), errors.0.len());
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}

fn import(file: &std::path::Path, allow_partial: bool) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("{}: {error}", file.display());
            return ExitCode::FAILURE;
        }
    };
    if !sluice_data_plane::zilla::is_zilla(&text) {
        eprintln!(
            "{}: not a Zilla config (no top-level `bindings`)",
            file.display()
        );
        return ExitCode::FAILURE;
    }
    let base = file.parent().unwrap_or(std::path::Path::new("."));
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_owned());
    // Secrets stay `${{env.NAME}}` references in the printed file.
    let env = sluice_data_plane::zilla::keep_env_references;
    match sluice_data_plane::zilla::import(&text, &base, &env, allow_partial) {
        Ok(import) => {
            print!("{}", sluice_data_plane::zilla::render_yaml(&import.config));
            print!("{}", import.report);
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{}: {} error(s)", file.display(), errors.len());
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}

fn import_asyncapi(file: &std::path::Path, tenant: &str, upstream: &str) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("{}: {error}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let options = sluice_data_plane::asyncapi::ImportOptions { tenant, upstream };
    match sluice_data_plane::asyncapi::import(&text, &options) {
        Ok(imported) => {
            let empty = sluice_data_plane::config::parse("version: 1\n", file, &|_| None);
            let Ok(mut config) = empty else {
                eprintln!("cannot build an empty config");
                return ExitCode::FAILURE;
            };
            config.tenants.insert(tenant, imported.tenant);
            print!("{}", sluice_data_plane::zilla::render_yaml(&config));
            for warning in imported.warnings {
                println!("# warning: {warning}");
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{}: {} error(s)", file.display(), errors.len());
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}

fn export(file: &std::path::Path, tenant: &str, servers: Option<&str>) -> ExitCode {
    let config = match sluice_data_plane::config::load(file) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{}: {errors}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let Some(found) = config.tenants.get(tenant) else {
        eprintln!("{}: no tenant named {tenant}", file.display());
        return ExitCode::FAILURE;
    };
    let document = sluice_data_plane::asyncapi::export(tenant, found, servers);
    println!(
        "{}",
        serde_json::to_string_pretty(&document).unwrap_or_default()
    );
    ExitCode::SUCCESS
}

fn token(args: TokenArgs) -> ExitCode {
    let pem = match std::fs::read_to_string(&args.key) {
        Ok(pem) => pem,
        Err(error) => {
            eprintln!("{}: {error}", args.key.display());
            return ExitCode::FAILURE;
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = serde_json::json!({
        "iss": args.iss,
        "aud": args.aud,
        "sub": args.sub,
        "scope": args.scope,
        "iat": now,
        "exp": now + args.exp.as_secs(),
    });
    match sluice_data_plane::auth::mint::mint(&pem, &args.alg, args.kid.as_deref(), &claims) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot mint a token: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn demo_upstream(listen: SocketAddr, interval: Duration) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().map_or(listen, |addr| addr);
    tracing::info!(%addr, "demo upstream listening");
    let config = sluice_demo_upstream::demo::DemoConfig { interval };
    sluice_demo_upstream::demo::run(listener, config, signal::terminate()).await;
    ExitCode::SUCCESS
}
