//! Folder ingest: how long a folder-backed vault takes to take in a folder
//! of small files (the "my Documents folder is in a vault" first run), side
//! by side with `restic backup` of the same folder into a local repository
//! (the encrypted, deduplicating store people pick instead; the aim is for
//! Holdfast to reach 1.5x restic's files/s), the daemon's peak RSS, and how long a later
//! full scan of the unchanged folder takes. The page cache is dropped
//! before each ingest, so both read the folder from disk.
//!
//! Run: `cargo bench -p holdfast-tests --bench folder_ingest`
//! (`BENCH_FILES`, default 10000; sizes cycle from 20 bytes to 16 KiB).
//! restic comes from Debian's package, installed with apt-get if missing;
//! without it the comparison is skipped, saying so.

#[path = "common.rs"]
#[allow(dead_code)]
mod common;
#[path = "../tests/e2e/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::{drop_caches, load, peak_rss_mib};
use harness::TestDaemon;

/// restic on PATH, installing Debian's package if need be.
fn restic() -> bool {
    let found = || {
        std::process::Command::new("restic")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if found() {
        return true;
    }
    println!("restic missing: apt-get install -y restic");
    let _ = std::process::Command::new("apt-get")
        .args(["install", "-y", "-q", "restic"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    found()
}

/// `restic init` then time `restic backup` of `folder` into a repository
/// beside it; answers seconds.
fn restic_backup(folder: &std::path::Path) -> f64 {
    let repo = folder.with_extension("restic-repo");
    let cache = folder.with_extension("restic-cache");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("restic")
            .args(["--repo", repo.to_str().unwrap(), "--cache-dir"])
            .arg(&cache)
            .args(args)
            .env("RESTIC_PASSWORD", "bench")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "restic {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["init"]);
    drop_caches();
    let started = Instant::now();
    run(&["backup", "--quiet", folder.to_str().unwrap()]);
    let secs = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&repo);
    let _ = std::fs::remove_dir_all(&cache);
    secs
}

async fn scan_status(d: &TestDaemon, t: &str, vault: &str) -> Value {
    d.get_auth(&format!("/vaults/{vault}/scan-status"), t)
        .await
        .json()
        .await
        .unwrap()
}

/// Poll until `done` holds for the scan status; answers the time taken.
async fn until(d: &TestDaemon, t: &str, vault: &str, done: impl Fn(&Value) -> bool) -> Value {
    loop {
        let s = scan_status(d, t, vault).await;
        if done(&s) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::main]
async fn main() {
    let files: u64 = std::env::var("BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    // The folder sits beside the data dir, on the same disk.
    let folder = d
        .data_dir()
        .parent()
        .unwrap()
        .join(format!("holdfast-bench-folder-{}", std::process::id()));
    let mut bytes = 0u64;
    for i in 0..files {
        let dir = folder.join(format!("d{:03}", i % 100));
        std::fs::create_dir_all(&dir).unwrap();
        let body = format!(
            "file number {i} {}",
            "x".repeat(((i * 37) % 16384) as usize)
        );
        bytes += body.len() as u64;
        std::fs::write(dir.join(format!("{i}.txt")), body).unwrap();
    }
    println!(
        "folder ingest: {files} files, {:.1} MiB",
        bytes as f64 / (1 << 20) as f64
    );

    let restic_secs = if restic() {
        println!("load before restic {}", load());
        let secs = restic_backup(&folder);
        println!(
            "restic backup      {secs:>8.1} s   ({:.0} files/s)",
            files as f64 / secs
        );
        Some(secs)
    } else {
        println!("restic could not be installed: no comparison");
        None
    };

    println!("load before ingest {}", load());
    let dropped = drop_caches();
    let started = Instant::now();
    let v: Value = d
        .post_auth(
            "/vaults",
            &t,
            json!({"name": "bench", "folder": folder.to_str().unwrap()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let vault = v["id"].as_str().unwrap().to_owned();
    let s = until(&d, &t, &vault, |s| s["scans"].as_u64() >= Some(1)).await;
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(s["ingested"].as_u64(), Some(files), "{s}");
    assert_eq!(s["errors"].as_u64(), Some(0), "{s}");
    println!(
        "first scan         {secs:>8.1} s   ({:.0} files/s; page cache dropped: {dropped})",
        files as f64 / secs
    );
    if let Some(r) = restic_secs {
        println!("ratio to restic    {:>8.2}   (aim >= 1.5)", r / secs);
    }
    println!(
        "daemon peak RSS    {:>8} MiB (aim < 150)",
        peak_rss_mib(d.pid())
    );

    // A rescan of the unchanged folder: pause and resume start a new worker,
    // which walks everything and compares it with the sync base.
    for flag in [true, false] {
        let resp = d
            .patch_auth(
                &format!("/vaults/{vault}"),
                &t,
                json!({"sync_paused": flag}),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    let started = Instant::now();
    let s = until(&d, &t, &vault, |s| s["scans"].as_u64() >= Some(1)).await;
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(s["ingested"].as_u64(), Some(0), "{s}");
    println!("unchanged rescan   {secs:>8.2} s   (includes the 0.25 s settle)");
    let _ = std::fs::remove_dir_all(&folder);
}
