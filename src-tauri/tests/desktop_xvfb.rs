//! The real desktop binary on a virtual X display (Xvfb, under a private
//! D-Bus session): it starts with a fresh data dir, its in-process daemon
//! answers `/api/v1/version`, and the unlock window appears. A screenshot of
//! the screen is saved to `<target dir>/ui-artifacts/desktop-unlock.png`.
//! Needs Xvfb, xwininfo and ImageMagick's `import`
//! (`installers/linux/install-deps.sh` installs them).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("ui-artifacts")
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A plain HTTP/1.1 GET over loopback (no client crate needed here).
fn http_get(addr: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn desktop_app_starts_its_daemon_and_shows_the_unlock_window() {
    for tool in ["Xvfb", "xwininfo", "import"] {
        assert!(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .unwrap()
                .success(),
            "{tool} is missing: run installers/linux/install-deps.sh"
        );
    }
    // Xvfb picks a free display and tells us its number.
    let mut xvfb = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(xvfb.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _xvfb = Killed(xvfb);
    let display = format!(":{}", line.trim());

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yaml"),
        "api:\n  bind: 127.0.0.1:0\nipc:\n  bind: 127.0.0.1:0\n",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_holdfast-desktop");
    let use_dbus = Command::new("sh")
        .args(["-c", "command -v dbus-run-session"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut cmd = if use_dbus {
        let mut c = Command::new("dbus-run-session");
        c.arg("--").arg(bin);
        c
    } else {
        Command::new(bin)
    };
    let app = cmd
        .arg("--data-dir")
        .arg(dir.path())
        .env("DISPLAY", &display)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("xdg-config"))
        .env("XDG_DATA_HOME", dir.path().join("xdg-data"))
        .env("XDG_RUNTIME_DIR", dir.path())
        // Software rendering: a virtual display has no GPU.
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("desktop.stderr")).unwrap())
        .spawn()
        .unwrap();
    let _app = Killed(app);
    let started = Instant::now();

    // The daemon inside writes endpoints.json once it listens.
    let endpoints = dir.path().join("endpoints.json");
    let api: String = wait_for("the in-process daemon", 60, || {
        let text = std::fs::read_to_string(&endpoints).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v["api"]["addr"].as_str().map(str::to_owned)
    });
    eprintln!("in-process daemon listening after {:?}", started.elapsed());
    let answer = http_get(&api, "/api/v1/version").expect("the daemon answers");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(env!("CARGO_PKG_VERSION")), "{answer}");

    // First run: the unlock window opens by itself.
    wait_for("the unlock window", 90, || {
        let out = Command::new("xwininfo")
            .args(["-root", "-tree", "-display", &display])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .contains("\"Unlock Holdfast\"")
            .then_some(())
    });
    eprintln!("unlock window mapped after {:?}", started.elapsed());
    // Let the page render before the picture.
    std::thread::sleep(Duration::from_secs(3));
    std::fs::create_dir_all(artifacts()).unwrap();
    let shot = artifacts().join("desktop-unlock.png");
    let status = Command::new("import")
        .args(["-display", &display, "-window", "root"])
        .arg(&shot)
        .status()
        .unwrap();
    assert!(status.success(), "screenshot failed");
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000);
    let stderr = std::fs::read_to_string(dir.path().join("desktop.stderr")).unwrap_or_default();
    assert!(!stderr.contains("panicked"), "{stderr}");
}
