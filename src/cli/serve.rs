use crate::config::Config;
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// How `serve` writes its log lines to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per event, coloured on a terminal.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`).
    Json,
}

/// `tandem serve`: logs to stderr with `log` (a filter; else RUST_LOG, else
/// "info") in `format`, then runs the server until SIGTERM or SIGINT.
/// Errors: a bad filter, a bad config, or the server's own start-up and
/// commit failures (`server::run`).
pub fn run(path: &Path, log: Option<&str>, format: LogFormat) -> anyhow::Result<ExitCode> {
    init_logs(log, format)?;
    let config = Arc::new(Config::load(path)?);
    // One thread for every socket, the peer link, the control socket and
    // the node (which is one state machine anyway); the SQLite writer has
    // its own. Handing each packet from a worker thread to the node's
    // thread cost a futex wake and a context switch per packet, a third of
    // the server's CPU per lease (BENCHMARKS.md).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        tracing::info!(config = %path.display(), name = %config.server.name, version = env!("CARGO_PKG_VERSION"), "tandem starting");
        crate::server::run(config, path.to_path_buf(), shutdown_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Logs to stderr with `log` (a filter; else RUST_LOG, else "info") in
/// `format`. Errors: a bad filter.
pub fn init_logs(log: Option<&str>, format: LogFormat) -> anyhow::Result<()> {
    let filter = match log {
        Some(f) => tracing_subscriber::EnvFilter::try_new(f).context("invalid --log filter")?,
        None => tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => logs.json().init(),
    }
    Ok(())
}

/// Resolves on SIGTERM or SIGINT (never, if the handlers cannot be installed).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!(
            "cannot install signal handlers; stop tandem with SIGKILL only after its leases are committed"
        );
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}
