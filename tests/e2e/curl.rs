//! The real binary with real clients nobody on the team wrote: `curl -N` over HTTP/1.1 and
//! `--http2` with TLS against the demo upstream; SIGTERM drains and exits 0.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};

use crate::support::GUARD;
use crate::support::certs::TestCa;

/// A `sluice` process whose JSON logs are read for the addresses it bound.
struct Process {
    child: Child,
    logs: Lines<BufReader<ChildStderr>>,
}

impl Process {
    fn spawn(args: &[&str]) -> Process {
        Self::spawn_with_env(args, &[])
    }

    fn spawn_with_env(args: &[&str], env: &[(&str, &str)]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["--log-format", "json"])
            .args(args)
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn sluice");
        let logs = BufReader::new(child.stderr.take().expect("stderr")).lines();
        Process { child, logs }
    }

    /// Reads log lines until one with `message`, returning its `addr` field.
    async fn addr_logged(&mut self, message: &str) -> String {
        loop {
            let line = tokio::time::timeout(GUARD, self.logs.next_line()).await;
            let line = line.expect("log in time").expect("read log");
            let line = line.unwrap_or_else(|| panic!("sluice exited before logging {message:?}"));
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
                eprintln!("sluice: {line}");
                continue;
            };
            if entry["fields"]["message"] == message {
                return entry["fields"]["addr"]
                    .as_str()
                    .expect("addr field")
                    .to_owned();
            }
        }
    }

    fn terminate(&self) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// Runs curl with `args`, returning its stdout lines as they arrive.
fn curl(args: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new("curl")
        .args(["-N", "-s", "-S"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn curl (the tests need curl)");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    let line = tokio::time::timeout(GUARD, lines.next_line())
        .await
        .expect("line in time");
    line.expect("read").expect("stream still open")
}

#[tokio::test]
async fn curl_streams_events_as_produced_over_http1_and_h2_with_tls_and_sigterm_drains() {
    let mut demo = Process::spawn(&[
        "demo-upstream",
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "100ms",
    ]);
    let demo_addr = demo.addr_logged("demo upstream listening").await;

    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    ca.write_pem(dir.path(), "server", &ca.leaf(&["localhost"]));
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    let config = format!(
        "version: 1\nlisteners:\n  - address: 127.0.0.1:0\n  - address: 127.0.0.1:0\n    tls: {{ certificate: \
         server.pem, private_key: server.key }}\ntenants:\n  demo:\n    path_prefix: /t/demo\n    routes:\n      \
         ticks:\n        path: /ticks\n        public: true\n        upstream:\n          url: \
         http://{demo_addr}/stream/ticks\n"
    );
    let config_path = dir.path().join("sluice.yaml");
    std::fs::write(&config_path, config).unwrap();
    let mut node = Process::spawn(&["data-plane", "--config", config_path.to_str().unwrap()]);
    let plain = node.addr_logged("listening").await;
    let tls_port = node
        .addr_logged("listening")
        .await
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();

    let (_h1, mut h1_lines) = curl(&[&format!("http://{plain}/t/demo/ticks")]);
    let ca_path = dir.path().join("ca.pem");
    let url = format!("https://localhost:{tls_port}/t/demo/ticks");
    let (mut h2, mut h2_lines) = curl(&[
        "--http2",
        "--cacert",
        ca_path.to_str().unwrap(),
        "-w",
        "%{http_version}\n",
        &url,
    ]);
    for lines in [&mut h1_lines, &mut h2_lines] {
        // Two events in a row, each as it is produced: curl -N prints them before any end.
        assert_eq!(next_line(lines).await, "event: tick");
        assert_eq!(next_line(lines).await, "id: 1");
        assert!(next_line(lines).await.starts_with("data: {\"n\":1,"));
        assert_eq!(next_line(lines).await, "");
        assert_eq!(next_line(lines).await, "event: tick");
        assert_eq!(next_line(lines).await, "id: 2");
    }

    node.terminate();
    let status = tokio::time::timeout(GUARD, node.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "sluice exits 0 after draining: {status}");
    let mut rest = Vec::new();
    while let Ok(Some(line)) = tokio::time::timeout(GUARD, h2_lines.next_line())
        .await
        .unwrap()
    {
        rest.push(line);
    }
    assert!(
        rest.iter().any(|line| line.starts_with("retry: ")),
        "drain sends a retry: {rest:?}"
    );
    assert_eq!(
        rest.last().map(String::as_str),
        Some("2"),
        "curl used HTTP/2"
    );
    assert!(
        tokio::time::timeout(GUARD, h2.wait())
            .await
            .unwrap()
            .unwrap()
            .success()
    );
    demo.terminate();
}

#[tokio::test]
async fn c35_tokens_in_the_query_never_reach_the_logs_even_at_trace() {
    use sluice_data_plane::auth::{Alg, mint};
    let (pem, jwk) = mint::generate_key_pair(Alg::Es256).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |exp: u64| serde_json::json!({"iss": "https://idp", "aud": "sse", "sub": "u", "exp": exp, "scope": "read"});
    let valid = mint::mint(&pem, "ES256", jwk["kid"].as_str(), &claims(now + 600)).unwrap();
    let expired = mint::mint(&pem, "ES256", jwk["kid"].as_str(), &claims(now - 600)).unwrap();

    let upstream = crate::support::upstream().await;
    upstream.respond(|_| sluice_demo_upstream::scripted::Reply::sse().chunk("data: 1\n\n"));
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "version: 1\nlisteners:\n  - address: 127.0.0.1:0\ntenants:\n  acme:\n    path_prefix: /t/acme\n    auth:\n      \
         issuer: https://idp\n      audiences: [sse]\n      keys: [{jwk}]\n      credentials: {{ query: access_token }}\n    \
         routes:\n      events:\n        path: /events\n        scopes: [read]\n        upstream:\n          url: {}\n",
        upstream.url("/s")
    );
    let path = dir.path().join("sluice.yaml");
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "--log-format",
            "json",
            "data-plane",
            "--config",
            path.to_str().unwrap(),
        ])
        .env("RUST_LOG", "trace")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut logs = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let addr = loop {
        let line = tokio::time::timeout(GUARD, logs.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push(line.clone());
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if entry["fields"]["message"] == "listening" {
            break entry["fields"]["addr"].as_str().unwrap().to_owned();
        }
    };
    for (token, status) in [(&valid, "200"), (&expired, "401")] {
        let url = format!("http://{addr}/t/acme/events?topic=x&access_token={token}");
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &url])
            .output()
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), status);
    }
    let requests = upstream.requests();
    assert_eq!(
        requests[0].uri.path_and_query().unwrap().as_str(),
        "/s?topic=x"
    );
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    while let Ok(Some(line)) = tokio::time::timeout(GUARD, logs.next_line()).await.unwrap() {
        seen.push(line);
    }
    assert!(seen.len() > 5, "trace logging was on: {} lines", seen.len());
    for line in &seen {
        for token in [&valid, &expired] {
            let signature = token.rsplit('.').next().unwrap();
            assert!(
                !line.contains(signature),
                "a token reached the logs: {line}"
            );
        }
    }
}

#[tokio::test]
async fn validate_exits_0_on_a_good_file_and_1_with_every_error_on_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, crate::support::one_route("http://127.0.0.1:1/s", "")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("validate")
        .arg(&good)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid (1 tenants, 1 routes)"));

    let bad = dir.path().join("bad.yaml");
    let text =
        crate::support::one_route("ftp://nowhere/s", "        buffer: 0\n        retry: soon");
    std::fs::write(&bad, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("validate")
        .arg(&bad)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tenants.acme.routes.events.retry"),
        "{stderr}"
    );
}

#[tokio::test]
async fn token_mints_a_jwt_the_node_accepts() {
    use sluice_data_plane::auth::{Alg, mint};
    let (pem, jwk) = mint::generate_key_pair(Alg::Rs256).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(&key, &pem).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "token",
            "--sub",
            "ada",
            "--scope",
            "read write",
            "--exp",
            "30s",
            "--key",
        ])
        .arg(&key)
        .args(["--kid", jwk["kid"].as_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let config: sluice_data_plane::config::Auth = serde_json::from_value(serde_json::json!({
        "issuer": "https://auth.example.com",
        "audiences": ["https://api.example.com"],
        "keys": [jwk],
    }))
    .unwrap();
    let mut errors = sluice_data_plane::config::ConfigErrors::new();
    let jwks = sluice_data_plane::auth::JwksCache::default();
    let auth =
        sluice_data_plane::auth::TenantAuth::compile("t", &config, &jwks, "auth", &mut errors)
            .unwrap();
    let identity = auth.verify(token.trim()).await.unwrap();
    assert_eq!(identity.subject.as_deref(), Some("ada"));
    assert_eq!(identity.scopes, ["read", "write"]);
}

/// Runs `sluice dev` on port 0 everywhere in `data_dir`; returns the process and its stdout.
async fn start_dev(data_dir: &std::path::Path) -> (Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("dev")
        .arg("--data-dir")
        .arg(data_dir)
        .args([
            "--console",
            "127.0.0.1:0",
            "--grpc",
            "127.0.0.1:0",
            "--node",
            "127.0.0.1:0",
        ])
        .args(["--node-admin", "127.0.0.1:0", "--upstream", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    loop {
        let line = next_line(&mut lines).await;
        let done = line.contains("Ctrl-C stops everything");
        printed.push(line);
        if done {
            return (child, printed);
        }
    }
}

#[tokio::test]
async fn dev_prints_a_curl_line_that_streams_and_a_second_start_reuses_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, printed) = start_dev(dir.path()).await;
    let curl_line = printed
        .iter()
        .find(|l| l.trim_start().starts_with("curl -N"))
        .unwrap();
    let token = curl_line
        .split("Bearer ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    let url = curl_line.rsplit(' ').next().unwrap().to_owned();
    let admin = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("admin token:"))
        .unwrap()
        .trim()
        .to_owned();

    let bearer = format!("authorization: Bearer {token}");
    let (_curl, mut lines) = curl(&["-H", &bearer, &url]);
    assert_eq!(next_line(&mut lines).await, "retry: 2000");
    assert_eq!(next_line(&mut lines).await, "");
    assert_eq!(next_line(&mut lines).await, "event: tick");
    assert_eq!(next_line(&mut lines).await, "id: 1");

    let modified = format!("authorization: Bearer {token}x");
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            &modified,
            &url,
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "401");
    // Ctrl-C stops everything cleanly.
    let mut dev = dev;
    let pid = dev.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(GUARD, dev.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "sluice dev exits 0 on Ctrl-C: {status}");

    let (_again, printed) = start_dev(dir.path()).await;
    let admin_again = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("admin token:"))
        .unwrap()
        .trim();
    assert_eq!(
        admin_again, admin,
        "the second start reuses the first one's demo"
    );
}

#[tokio::test]
async fn zillas_example_config_runs_unchanged_over_h2_with_tls() {
    // The seed file byte for byte, beside a locally made keystore.
    let seed = include_str!("../../examples/zilla/zilla.yaml");
    let page = format!("sluice-e2e-{}.html", std::process::id());
    let (dir, node) = run_zilla(seed, "zilla-pass", "127.0.0.2").await;
    std::fs::write(format!("/var/www/{page}"), "<p>from zilla's filesystem</p>").unwrap();

    let ca_path = dir.path().join("ca.pem");
    let cacert = ca_path.to_str().unwrap();
    let fetch = |path: String| async move {
        let url = format!("https://localhost:7143{path}");
        let out = Command::new("curl")
            .args([
                "-s",
                "--http2",
                "--cacert",
                cacert,
                "-D",
                "-",
                "-w",
                "\n%{http_version}",
                &url,
            ])
            .output()
            .await
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let refused = fetch("/events".to_owned()).await;
    assert!(refused.starts_with("HTTP/2 401"), "{refused}");
    assert!(
        refused.contains("www-authenticate: Bearer realm=\"example\""),
        "{refused}"
    );
    let served = fetch(format!("/{page}")).await;
    assert!(served.starts_with("HTTP/2 200"), "{served}");
    assert!(
        served.contains("<p>from zilla's filesystem</p>"),
        "{served}"
    );
    assert!(served.ends_with("\n2"), "{served}");
    std::fs::remove_file(format!("/var/www/{page}")).unwrap();
    node.terminate();
}

#[tokio::test]
async fn zillas_example_with_a_test_key_streams_with_scope_and_challenges_before_exp() {
    use sluice_data_plane::auth::{Alg, mint};
    // The seed's guard keys have no private half anyone has; swap in a test key, nothing else.
    let (pem, jwk) = mint::generate_key_pair(Alg::Rs256).unwrap();
    let seed = include_str!("../../examples/zilla/zilla.yaml");
    let start = seed.find("      keys:\n        - kty").unwrap();
    let end = seed.find("      challenge: 10").unwrap();
    let keys = format!(
        "      keys:\n        - kty: RSA\n          n: \"{}\"\n          e: \"{}\"\n          alg: RS256\n          kid: \"{}\"\n",
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
        jwk["kid"].as_str().unwrap()
    );
    let config = format!("{}{keys}{}", &seed[..start], &seed[end..])
        .replace("port: 7143", "port: 7144")
        .replace("localhost:7143", "localhost:7144");
    let (dir, node) = run_zilla(&config, "pw", "127.0.0.3").await;

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |scope: &str| {
        serde_json::json!({
            "iss": "https://auth.example.com", "aud": "https://api.example.com",
            "sub": "ada", "scope": scope, "exp": now + 12,
        })
    };
    let kid = jwk["kid"].as_str();
    let good = mint::mint(&pem, "RS256", kid, &claims("proxy:stream")).unwrap();
    let unscoped = mint::mint(&pem, "RS256", kid, &claims("other")).unwrap();
    let ca_path = dir.path().join("ca.pem");
    let cacert = ca_path.to_str().unwrap();

    let url = format!("https://localhost:7144/events?access_token={unscoped}");
    let out = Command::new("curl")
        .args([
            "-s",
            "--http2",
            "--cacert",
            cacert,
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &url,
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403");

    let url = format!("https://localhost:7144/events?access_token={good}");
    let (_curl, mut lines) = curl(&["--http2", "--cacert", cacert, &url]);
    assert_eq!(next_line(&mut lines).await, "event: tick");
    // The challenge comes 10 s before exp (2 s from now), byte for byte as Zilla writes it.
    loop {
        let line = next_line(&mut lines).await;
        if line == "event: challenge" {
            let data = next_line(&mut lines).await;
            assert_eq!(
                data,
                "data: {\"method\":\"POST\",\"headers\":{\"content-type\":\"application/x-challenge-response\"}}"
            );
            break;
        }
    }
    node.terminate();
}

/// Runs `zilla_yaml` under `sluice data-plane` in a fresh folder with a locally made keystore
/// (password `password`), `sse-server` resolved to a demo upstream on `loopback`:8001.
/// Returns the folder (holding `ca.pem`) and the process.
async fn run_zilla(
    zilla_yaml: &str,
    password: &str,
    loopback: &str,
) -> (tempfile::TempDir, Process) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("zilla.yaml"), zilla_yaml).unwrap();
    std::fs::create_dir(dir.path().join("tls")).unwrap();
    let ca = TestCa::new();
    let p12 = ca.write_p12(dir.path(), "localhost", &ca.leaf(&["localhost"]), password);
    std::fs::rename(p12, dir.path().join("tls/localhost.p12")).unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    // The example serves /var/www/, which must exist (tests run as root in CI).
    std::fs::create_dir_all("/var/www").expect("the Zilla example serves /var/www/ (run as root)");

    let listener = tokio::net::TcpListener::bind(format!("{loopback}:8001"))
        .await
        .unwrap();
    let demo = sluice_demo_upstream::demo::DemoConfig {
        interval: std::time::Duration::from_millis(100),
    };
    tokio::spawn(sluice_demo_upstream::demo::run(
        listener,
        demo,
        std::future::pending(),
    ));
    let config = dir.path().join("zilla.yaml");
    let resolve = format!("sse-server={loopback}");
    let args = [
        "data-plane",
        "--config",
        config.to_str().unwrap(),
        "--resolve",
        &resolve,
    ];
    let mut node = Process::spawn_with_env(&args, &[("KEYSTORE_PASSWORD", password)]);
    node.addr_logged("listening").await;
    (dir, node)
}

#[tokio::test]
async fn token_takes_a_kid_that_starts_with_a_hyphen() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let (pem, _) =
        sluice_data_plane::auth::mint::generate_key_pair(sluice_data_plane::auth::Alg::Es256)
            .unwrap();
    std::fs::write(&key, pem).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "token", "--alg", "ES256", "--sub", "ada", "--kid", "-Wx_1", "--key",
        ])
        .arg(&key)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let header = token.split('.').next().unwrap();
    use base64::Engine;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(header["kid"], "-Wx_1");
}
