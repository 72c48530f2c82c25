//! The `sluice` command: one binary for every role. Each subcommand is a thin wrapper over a
//! library crate, so tests drive the same code in-process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

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
    /// Run a data-plane node from a declarative config file (reloaded when it changes).
    DataPlane {
        /// The declarative config file (version 1).
        #[arg(long, env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
    /// Check a config file: exit 0 when valid, 1 with every error printed.
    Validate {
        /// The file to check.
        file: PathBuf,
    },
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

fn parse_duration(text: &str) -> Result<Duration, String> {
    sluice_data_plane::config::parse_duration(text).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    sluice_data_plane::tls::install_crypto_provider();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli.command))
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
        Command::DataPlane { config } => data_plane(config).await,
        Command::Validate { file } => validate(&file),
        Command::DemoUpstream { listen, interval } => demo_upstream(listen, interval).await,
    }
}

async fn data_plane(config: PathBuf) -> ExitCode {
    match sluice_data_plane::start_from_file(&config, signal::terminate()).await {
        Ok(node) => {
            node.wait().await;
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}: {error}", config.display());
            ExitCode::FAILURE
        }
    }
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
