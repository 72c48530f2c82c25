//! `sluice-bench`: the tools `bench/run` drives. Each subcommand is one part of a benchmark run;
//! see `bench/README.md`.

use clap::{Parser, Subcommand};

mod setup;

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Setup(args) => setup::run(args),
    }
}
