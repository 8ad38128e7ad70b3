//! Logging: human-readable lines to stderr and to a daily-rotated file in
//! `<data dir>/logs/` (a week kept). `HOLDFAST_LOG` takes an EnvFilter
//! directive (default `info`). Nothing secret is ever passed to a log macro:
//! the access log omits query strings and headers.

use std::io::IsTerminal;
use std::path::Path;

pub use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keep the returned guard alive for as long as logs should be flushed.
pub fn init(logs_dir: &Path) -> anyhow::Result<WorkerGuard> {
    std::fs::create_dir_all(logs_dir)?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("holdfast")
        .filename_suffix("log")
        .max_log_files(7)
        .build(logs_dir)?;
    let (file_writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("HOLDFAST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(file_writer),
        )
        .try_init()?;
    Ok(guard)
}
