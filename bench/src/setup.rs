//! `sluice-bench setup`: writes what a benchmark run of Sluice needs into one folder: a signing
//! key, a long-lived token, and a standalone config whose routes differ only in the work done
//! per stream and per event (none, JWT, JWT plus schema validation).

use std::fs;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde_json::json;
use sluice_data_plane::auth::Alg;
use sluice_data_plane::auth::mint::{generate_key_pair, mint};

const ISSUER: &str = "https://bench.sluice.test";
const AUDIENCE: &str = "bench";

/// Flags of `sluice-bench setup`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder to write `sluice.yaml`, `swap-a.yaml`, `swap-b.yaml` and `token` into.
    #[arg(long)]
    dir: PathBuf,
    /// The upstream's address (`host:port`).
    #[arg(long)]
    upstream: String,
    /// The address Sluice listens on.
    #[arg(long)]
    listen: String,
    /// The address of Sluice's admin endpoint (metrics, readiness).
    #[arg(long)]
    admin: String,
}

/// Writes the files and prints the token's path.
pub fn run(args: Args) -> anyhow::Result<()> {
    fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    let (pem, jwk) = generate_key_pair(Alg::Rs256)?;
    let kid = jwk["kid"].as_str().map(str::to_owned);
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "bench", "scope": "read", "exp": now + 86_400,
    });
    let token = mint(&pem, "RS256", kid.as_deref(), &claims)?;
    let jwk = serde_json::to_string(&jwk)?;
    let write = |name: &str, text: String| {
        let path = args.dir.join(name);
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write("token", token)?;
    write("sluice.yaml", config(&args, &jwk, "30s", ""))?;
    // The swap scenario alternates between these two: the streamed routes stay, a heartbeat
    // and an extra route change, so every write is a real new revision.
    write("swap-a.yaml", config(&args, &jwk, "30s", ""))?;
    write("swap-b.yaml", config(&args, &jwk, "31s", EXTRA_ROUTE))?;
    println!("{}", args.dir.display());
    Ok(())
}

const EXTRA_ROUTE: &str = "      extra:\n        path: /extra\n        public: true\n        \
                           upstream: { url: \"http://127.0.0.1:9/extra\" }\n";

/// The config: routes `/t/bench/open` (public), `/jwt` (token needed), `/checked` (token
/// and a schema per event), and `/open-h2` (public, h2 to the upstream).
fn config(args: &Args, jwk: &str, heartbeat: &str, extra: &str) -> String {
    let up = &args.upstream;
    format!(
        r#"version: 1
listeners:
  - address: {listen}
admin:
  address: {admin}
tenants:
  bench:
    path_prefix: /t/bench
    auth:
      issuer: {ISSUER}
      audiences: [{AUDIENCE}]
      keys: [{jwk}]
    schemas:
      tick:
        - version: 1
          schema:
            type: object
            required: [t, seq, pad]
            properties:
              t: {{ type: integer, minimum: 0 }}
              seq: {{ type: integer, minimum: 1 }}
              pad: {{ type: string }}
    routes:
      open:
        path: /open
        public: true
        heartbeat: {heartbeat}
        upstream: {{ url: "http://{up}/stream" }}
      open-h2:
        path: /open-h2
        public: true
        upstream: {{ url: "http://{up}/stream", version: h2 }}
      jwt:
        path: /jwt
        scopes: [read]
        heartbeat: {heartbeat}
        upstream: {{ url: "http://{up}/stream" }}
      checked:
        path: /checked
        scopes: [read]
        heartbeat: {heartbeat}
        upstream: {{ url: "http://{up}/stream" }}
        events: {{ "*": tick@1 }}
{extra}"#,
        listen = args.listen,
        admin = args.admin,
    )
}
