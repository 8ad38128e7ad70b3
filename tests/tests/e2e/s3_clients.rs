//! The S3 clients people use, against a real daemon: Debian's aws CLI,
//! the newest boto3, and rclone (sync up and back, `rclone check` clean).
//! `tests/s3/setup.sh` installs them when missing.

use std::path::{Path, PathBuf};
use std::process::Output;

use tokio::sync::OnceCell;

use crate::s3_support::S3Node;

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("s3")
}

async fn setup() {
    static SETUP: OnceCell<()> = OnceCell::const_new();
    SETUP
        .get_or_init(|| async {
            let ok = tokio::process::Command::new("sh")
                .arg(here().join("setup.sh"))
                .status()
                .await
                .unwrap();
            assert!(ok.success(), "tests/s3/setup.sh failed");
        })
        .await;
}

fn ok(out: &Output, what: &str) -> String {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

/// A node with one bucket and a key granted everything on it.
async fn node(bucket: &str) -> (S3Node, String, String) {
    setup().await;
    let n = S3Node::start().await;
    n.vault(bucket).await;
    let (id, secret) = n.key(&[(bucket, &["read", "write", "delete"])]).await;
    (n, id, secret)
}

/// A folder of files (nested, a few sizes) to sync.
fn tree(root: &Path) {
    for (p, size) in [
        ("a.txt", 10),
        ("docs/b.md", 4000),
        ("docs/deep/c.bin", 300_000),
        ("big/d.bin", 12 * 1024 * 1024),
        ("e mit leerzeichen.txt", 5),
    ] {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let data: Vec<u8> = (0..size).map(|i: usize| (i * 7 + p.len()) as u8).collect();
        std::fs::write(path, data).unwrap();
    }
}

fn same_tree(a: &Path, b: &Path) {
    let list = |root: &Path| {
        let mut v: Vec<(PathBuf, Vec<u8>)> = crate::harness::files_under(root, "")
            .into_iter()
            .map(|p| {
                (
                    p.strip_prefix(root).unwrap().to_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(list(a), list(b), "trees differ");
}

#[tokio::test]
async fn aws_cli_puts_gets_lists_multiparts_presigns_and_syncs() {
    let (n, id, secret) = node("awscli").await;
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("config");
    // Multipart from 8 MiB, with checksums on for uploads.
    std::fs::write(
        &config,
        "[default]\nregion = us-east-1\ns3 =\n  multipart_threshold = 8MB\n  multipart_chunksize = 8MB\n  addressing_style = path\n",
    )
    .unwrap();
    let aws = |args: &[&str]| {
        let mut c = tokio::process::Command::new("/usr/bin/aws");
        c.args(["--endpoint-url", &n.endpoint])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", &id)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", work.path().join("none"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .env_remove("AWS_CA_BUNDLE")
            .current_dir(work.path());
        c
    };
    let src = work.path().join("src");
    tree(&src);

    let out = aws(&["s3", "cp", "src/a.txt", "s3://awscli/one/a.txt"])
        .output()
        .await
        .unwrap();
    ok(&out, "aws s3 cp up");
    let out = aws(&["s3", "cp", "s3://awscli/one/a.txt", "a.back"])
        .output()
        .await
        .unwrap();
    ok(&out, "aws s3 cp down");
    assert_eq!(
        std::fs::read(work.path().join("a.back")).unwrap(),
        std::fs::read(src.join("a.txt")).unwrap()
    );
    // 12 MiB: a multipart upload. (Debian's aws CLI 2.9 has no checksum
    // options on `s3 cp`/`sync`; its `s3api` calls carry them below.)
    let out = aws(&["s3", "cp", "src/big/d.bin", "s3://awscli/one/d.bin"])
        .output()
        .await
        .unwrap();
    ok(&out, "aws s3 cp multipart");
    let out = aws(&[
        "s3api",
        "head-object",
        "--bucket",
        "awscli",
        "--key",
        "one/d.bin",
        "--checksum-mode",
        "ENABLED",
    ])
    .output()
    .await
    .unwrap();
    let head = ok(&out, "aws s3api head-object");
    assert!(
        head.contains("\"ETag\": \"\\\"") && head.contains("-2\\\""),
        "{head}"
    );
    let out = aws(&[
        "s3api",
        "put-object",
        "--bucket",
        "awscli",
        "--key",
        "one/sha.txt",
        "--body",
        "src/a.txt",
        "--checksum-algorithm",
        "SHA256",
    ])
    .output()
    .await
    .unwrap();
    ok(&out, "aws s3api put-object with SHA256");
    let out = aws(&[
        "s3api",
        "head-object",
        "--bucket",
        "awscli",
        "--key",
        "one/sha.txt",
        "--checksum-mode",
        "ENABLED",
    ])
    .output()
    .await
    .unwrap();
    let head = ok(&out, "aws s3api head-object of sha.txt");
    assert!(head.contains("ChecksumSHA256"), "{head}");
    let out = aws(&["s3", "ls", "s3://awscli/one/"])
        .output()
        .await
        .unwrap();
    let ls = ok(&out, "aws s3 ls");
    for name in ["a.txt", "d.bin", "sha.txt"] {
        assert!(ls.contains(name), "{ls}");
    }
    let out = aws(&[
        "s3",
        "presign",
        "s3://awscli/one/a.txt",
        "--expires-in",
        "300",
    ])
    .output()
    .await
    .unwrap();
    let url = ok(&out, "aws s3 presign");
    let url = url.lines().next().unwrap().trim().to_owned();
    let got = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.bytes().await.unwrap().as_ref(),
        std::fs::read(src.join("a.txt")).unwrap()
    );

    // sync a folder up and back.
    let out = aws(&["s3", "sync", "src", "s3://awscli/synced/"])
        .output()
        .await
        .unwrap();
    ok(&out, "aws s3 sync up");
    let out = aws(&["s3", "sync", "s3://awscli/synced/", "back"])
        .output()
        .await
        .unwrap();
    ok(&out, "aws s3 sync down");
    same_tree(&src, &work.path().join("back"));
    // A second sync has nothing to do.
    let out = aws(&["s3", "sync", "src", "s3://awscli/synced/"])
        .output()
        .await
        .unwrap();
    let again = ok(&out, "aws s3 sync again");
    assert!(!again.contains("upload:"), "{again}");
}

#[tokio::test]
async fn boto3_with_default_checksums() {
    let (n, id, secret) = node("boto").await;
    let work = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(here().join(".venv/bin/python"))
        .arg(here().join("boto3_client.py"))
        .env("S3_ENDPOINT", &n.endpoint)
        .env("S3_KEY", &id)
        .env("S3_SECRET", &secret)
        .env("S3_BUCKET", "boto")
        .env("WORKDIR", work.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_CA_BUNDLE")
        .output()
        .await
        .unwrap();
    let text = ok(&out, "boto3_client.py");
    assert!(text.contains("boto3 ok"), "{text}");
}

#[tokio::test]
async fn rclone_syncs_up_and_back_and_checks_clean() {
    let (n, id, secret) = node("rclone").await;
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    tree(&src);
    let rclone = |args: &[&str]| {
        let mut c = tokio::process::Command::new("rclone");
        c.args(args)
            .args([
                "--config",
                "/dev/null",
                "--s3-upload-cutoff",
                "5M",
                "--s3-chunk-size",
                "5M",
            ])
            .env("RCLONE_CONFIG_HF_TYPE", "s3")
            .env("RCLONE_CONFIG_HF_PROVIDER", "Other")
            .env("RCLONE_CONFIG_HF_ENDPOINT", &n.endpoint)
            .env("RCLONE_CONFIG_HF_ACCESS_KEY_ID", &id)
            .env("RCLONE_CONFIG_HF_SECRET_ACCESS_KEY", &secret)
            .env("RCLONE_CONFIG_HF_FORCE_PATH_STYLE", "true")
            .env_remove("AWS_CA_BUNDLE")
            .current_dir(work.path());
        c
    };
    let out = rclone(&["sync", "src", "hf:rclone/mirror"])
        .output()
        .await
        .unwrap();
    ok(&out, "rclone sync up");
    let out = rclone(&["check", "src", "hf:rclone/mirror"])
        .output()
        .await
        .unwrap();
    let check = ok(&out, "rclone check");
    assert!(check.contains("0 differences found"), "{check}");
    let out = rclone(&["sync", "hf:rclone/mirror", "back"])
        .output()
        .await
        .unwrap();
    ok(&out, "rclone sync down");
    same_tree(&src, &work.path().join("back"));
    // A change and a deletion sync too, and check stays clean.
    std::fs::write(src.join("a.txt"), b"changed").unwrap();
    std::fs::remove_file(src.join("docs/b.md")).unwrap();
    let out = rclone(&["sync", "src", "hf:rclone/mirror"])
        .output()
        .await
        .unwrap();
    ok(&out, "rclone sync of changes");
    let out = rclone(&["check", "src", "hf:rclone/mirror"])
        .output()
        .await
        .unwrap();
    ok(&out, "rclone check after changes");
}
