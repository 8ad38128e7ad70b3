//! What the throughput benches share: dropping the page cache, the
//! daemon's peak RSS, the machine's load (it is shared: every figure is
//! printed with the load it was measured under), and rates.

use std::process::Command;

/// Write back and drop the page cache (root only); answers whether it was
/// dropped, so cold figures say when they are not cold.
pub fn drop_caches() -> bool {
    let _ = Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

/// Peak resident set (VmHWM) of a process, in MiB.
pub fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

/// The 1-minute load average (the machine is shared with other builds).
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Megabytes (10^6, as `dd` reports) per second.
pub fn mb_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}
