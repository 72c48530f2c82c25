//! `sluice-bench`: the tools `bench/run` drives. Each subcommand is one part of a benchmark run;
//! see `bench/README.md`.

use clap::{Parser, Subcommand};

mod hotpath;
mod load;
mod setup;
mod upstream;
mod watchers;

/// Sluice's benchmark tools.
#[derive(Debug, Parser)]
#[command(about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a signing key, a token and Sluice configs for a benchmark run.
    Setup(setup::Args),
    /// Serve SSE streams of paced, timestamped events over HTTP/1.1 and h2.
    Upstream(upstream::Args),
    /// Open many SSE streams and measure events/s, gaps and latency.
    Load(load::Args),
    /// Simulate data-plane nodes watching a control plane; time REST writes to the last ack.
    Watchers(watchers::Args),
    /// Push events through the data plane's per-event path, for an instruction count.
    Hotpath(hotpath::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Setup(args) => setup::run(args),
        Command::Upstream(args) => upstream::run(args).await,
        Command::Load(args) => load::run(args).await,
        Command::Watchers(args) => watchers::run(args).await,
        Command::Hotpath(args) => hotpath::run(args),
    }
}
