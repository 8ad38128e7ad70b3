//! The Linux packages: `installers/build.sh --debug` builds the .deb and the
//! .rpm (reusing this test build); the .deb is unpacked into a throwaway
//! root (`dpkg-deb -x`) and its files checked: both binaries, the desktop
//! entry, icons, the systemd user unit, and the control data.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

fn only_file(dir: &Path, ext: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}

#[test]
fn deb_and_rpm_carry_the_app_the_cli_and_the_service() {
    let bundle = target_dir().join("debug/bundle");
    let _ = std::fs::remove_dir_all(&bundle);
    let out = Command::new("sh")
        .arg(root().join("installers/build.sh"))
        .arg("--debug")
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "installers/build.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let deb = only_file(&bundle.join("deb"), "deb");
    let fs_root = tempfile::tempdir().unwrap();
    let x = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(fs_root.path())
        .status()
        .unwrap();
    assert!(x.success());
    let r = fs_root.path();
    for file in [
        "usr/bin/holdfast-desktop",
        "usr/bin/holdfast",
        "usr/share/applications/Holdfast.desktop",
        "usr/share/icons/hicolor/32x32/apps/holdfast-desktop.png",
        "usr/share/icons/hicolor/128x128/apps/holdfast-desktop.png",
        "usr/lib/systemd/user/holdfast.service",
        "usr/share/doc/holdfast-desktop/README.server.md",
    ] {
        assert!(r.join(file).is_file(), "{file} missing from the .deb");
    }
    let entry = std::fs::read_to_string(r.join("usr/share/applications/Holdfast.desktop")).unwrap();
    for line in [
        "Exec=holdfast-desktop",
        "Icon=holdfast-desktop",
        "Name=Holdfast",
        "Type=Application",
    ] {
        assert!(entry.lines().any(|l| l == line), "{line} not in:\n{entry}");
    }
    let unit = std::fs::read_to_string(r.join("usr/lib/systemd/user/holdfast.service")).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/bin/holdfast daemon"),
        "{unit}"
    );
    // The packaged CLI runs.
    let version = Command::new(r.join("usr/bin/holdfast"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));

    let info = Command::new("dpkg-deb")
        .arg("-f")
        .arg(&deb)
        .output()
        .unwrap();
    let control = String::from_utf8_lossy(&info.stdout);
    assert!(control.contains("Package: holdfast"), "{control}");
    assert!(control.contains("libwebkit2gtk-4.1-0"), "{control}");

    // The .rpm is a real RPM (lead magic ed ab ee db).
    let rpm = only_file(&bundle.join("rpm"), "rpm");
    let head = std::fs::read(&rpm).unwrap();
    assert_eq!(&head[..4], &[0xed, 0xab, 0xee, 0xdb]);
}
