//! One report's contents, gathered and zipped in memory (bounded: the logs
//! are capped at [`MAX_LOG_BYTES`], everything else is small). Nothing is
//! copied from the data dir but the log files and `endpoints.json`, and both
//! go through the redactor; key files, tokens and the catalog never do.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde_json::{Value, json};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::{DiagnosticsError, Redactor};
use crate::config::Config;

/// Uncompressed log text in one report, newest lines kept.
pub const MAX_LOG_BYTES: u64 = 8 * 1024 * 1024;

/// Daily log files included: today's and yesterday's.
const LOG_FILES: usize = 2;

pub(super) struct Sources<'a> {
    pub config: &'a Config,
    pub logs_dir: &'a Path,
    pub endpoints_file: &'a Path,
    pub system: Value,
}

const README: &str = "Holdfast diagnostics report\n\
\n\
config.yaml   the configuration the daemon loaded (secret-named keys redacted)\n\
system.json   version, status, metrics summary, vaults (names and counts), OS, endpoints\n\
logs/         the most recent daily log files, newest lines, redacted line by line\n\
report.json   when and how this report was made\n\
\n\
Passwords, tokens, tickets, keys and recovery phrases are replaced by [redacted].\n\
Key files, the catalog and vault contents are never included.\n";

pub(super) fn build(
    id: &str,
    created_ms: i64,
    sources: Sources<'_>,
    redactor: &Redactor,
) -> Result<Vec<u8>, DiagnosticsError> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let (y, mo, d, h, mi, s) = crate::time::civil(created_ms);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o600)
        .last_modified_time(
            DateTime::from_date_and_time(y as u16, mo, d, h, mi, s).unwrap_or_default(),
        );

    let mut put = |name: &str, bytes: &[u8]| -> Result<(), DiagnosticsError> {
        zip.start_file(name, options).map_err(zip_error)?;
        zip.write_all(bytes)?;
        Ok(())
    };

    put("README.txt", README.as_bytes())?;
    put(
        "config.yaml",
        config_yaml(sources.config, redactor)?.as_bytes(),
    )?;

    let mut system = sources.system;
    if let Ok(text) = std::fs::read_to_string(sources.endpoints_file)
        && let Ok(endpoints) = serde_json::from_str::<Value>(&text)
    {
        system["endpoints"] = endpoints;
    }
    system["os"] = os_facts();
    redactor.json(&mut system);
    put("system.json", &pretty(&system)?)?;

    let logs = recent_logs(sources.logs_dir)?;
    let mut included = Vec::new();
    let mut budget = MAX_LOG_BYTES;
    for (name, path) in logs {
        if budget == 0 {
            break;
        }
        let (text, truncated) = read_tail(&path, budget)?;
        budget = budget.saturating_sub(text.len() as u64);
        let mut redacted = String::with_capacity(text.len());
        for line in text.lines() {
            redacted.push_str(&redactor.text(line));
            redacted.push('\n');
        }
        put(&format!("logs/{name}"), redacted.as_bytes())?;
        included.push(json!({"file": name, "bytes": redacted.len(), "truncated": truncated}));
    }

    let report = json!({
        "id": id,
        "created_ms": created_ms,
        "format": 1,
        "logs": included,
        "max_log_bytes": MAX_LOG_BYTES,
    });
    put("report.json", &pretty(&report)?)?;
    Ok(zip.finish().map_err(zip_error)?.into_inner())
}

/// The loaded config as YAML, structurally redacted.
fn config_yaml(config: &Config, redactor: &Redactor) -> Result<String, DiagnosticsError> {
    let mut value = serde_yaml_ng::to_value(config).map_err(std::io::Error::other)?;
    redactor.yaml(&mut value);
    Ok(serde_yaml_ng::to_string(&value).map_err(std::io::Error::other)?)
}

/// The machine, as far as a bug report needs it (no host name).
fn os_facts() -> Value {
    use sysinfo::System;
    json!({
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "long_os_version": System::long_os_version().ok(),
        "kernel_version": System::kernel_version().ok(),
        "cpus": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "machine_uptime_s": System::uptime().ok(),
    })
}

fn pretty(value: &Value) -> Result<Vec<u8>, DiagnosticsError> {
    Ok(serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?)
}

/// The newest daily log files (`holdfast.YYYY-MM-DD.log`), newest first.
fn recent_logs(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, DiagnosticsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut logs: Vec<(String, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(name, _)| name.starts_with("holdfast.") && name.ends_with(".log"))
        .collect();
    // The date in the name sorts the files.
    logs.sort_by(|a, b| b.0.cmp(&a.0));
    logs.truncate(LOG_FILES);
    Ok(logs)
}

/// The last `max` bytes of a file, from the first whole line; and whether
/// anything was left out.
fn read_tail(path: &Path, max: u64) -> Result<(String, bool), DiagnosticsError> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity((len - start) as usize);
    file.take(max).read_to_end(&mut bytes)?;
    if start > 0 {
        let cut = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        bytes.drain(..cut);
    }
    Ok((String::from_utf8_lossy(&bytes).into_owned(), start > 0))
}

fn zip_error(e: zip::result::ZipError) -> DiagnosticsError {
    DiagnosticsError::Io(std::io::Error::other(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::civil;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        // 2024-02-29 12:34:56 UTC
        assert_eq!(civil(1_709_210_096_000), (2024, 2, 29, 12, 34, 56));
        assert_eq!(civil(951_868_800_000), (2000, 3, 1, 0, 0, 0));
    }

    #[test]
    fn logs_are_capped_redacted_and_newest() {
        let tmp = tempfile::tempdir().unwrap();
        let logs = tmp.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        let secret = "f".repeat(64);
        std::fs::write(logs.join("holdfast.2026-01-01.log"), "oldest\n").unwrap();
        std::fs::write(logs.join("holdfast.2026-01-02.log"), "yesterday\n").unwrap();
        let big = format!(
            "first line\n{}token={secret} last\n",
            "x".repeat(100) + "\n"
        );
        std::fs::write(logs.join("holdfast.2026-01-03.log"), &big).unwrap();
        std::fs::write(logs.join("other.txt"), "not a log").unwrap();

        let names: Vec<String> = recent_logs(&logs)
            .unwrap()
            .into_iter()
            .map(|l| l.0)
            .collect();
        assert_eq!(
            names,
            ["holdfast.2026-01-03.log", "holdfast.2026-01-02.log"]
        );

        let (tail, truncated) = read_tail(&logs.join("holdfast.2026-01-03.log"), 90).unwrap();
        assert!(truncated);
        assert!(!tail.contains("first line"), "partial lines are dropped");
        assert!(tail.ends_with("last\n"));

        let r = Redactor::new(Vec::new(), Vec::new());
        let config = Config::default();
        let sources = Sources {
            config: &config,
            logs_dir: &logs,
            endpoints_file: &tmp.path().join("endpoints.json"),
            system: json!({"note": format!("Bearer {secret}")}),
        };
        let bytes = build("00", 0, sources, &r).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut all = String::new();
        let mut names = Vec::new();
        for i in 0..archive.len() {
            let mut f = archive.by_index(i).unwrap();
            names.push(f.name().unwrap().into_owned());
            f.read_to_string(&mut all).unwrap();
        }
        assert!(
            names.contains(&"logs/holdfast.2026-01-03.log".to_owned()),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.contains("01-01")), "{names:?}");
        assert!(all.contains("api:") && all.contains("yesterday"));
        assert!(!all.contains(&secret));
    }
}
