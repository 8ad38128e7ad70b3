//! Crash safety: SIGKILL in the middle of uploads leaves a consistent
//! catalog (no file names a missing block, no partial upload visible),
//! `holdfast fsck` finds nothing damaged, and leftovers are collected.

use std::io::Write;
use std::net::TcpStream;

use serde_json::{Value, json};

use crate::harness::{PASSPHRASE, TestDaemon, block_files, files_under, pseudo_random};
use crate::ipc::ready;

#[tokio::test]
async fn sigkill_mid_upload_leaves_a_consistent_store() {
    let (d, t) = ready().await;
    let resp = d.post_auth("/vaults", &t, json!({"name": "Crash"})).await;
    let vid = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = pseudo_random(3 * 1024 * 1024, 1);
    let resp = d
        .http
        .post(d.url(&format!("/vaults/{vid}/upload/done.bin")))
        .bearer_auth(&t)
        .body(done.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Counted before the uploads start: they stage blocks (in blocks/tmp)
    // as fast as the bytes arrive.
    let blocks = d.data_dir().join("blocks");
    let before = files_under(&blocks, "").len();
    // Three uploads, each cut off after 6 MiB of a promised 20 MiB.
    let mut streams = Vec::new();
    for i in 0..3 {
        let mut s = TcpStream::connect(d.addr).unwrap();
        write!(
            s,
            "POST /api/v1/vaults/{vid}/upload/partial-{i}.bin HTTP/1.1\r\nHost: {}\r\n\
             Authorization: Bearer {t}\r\nContent-Length: {}\r\n\r\n",
            d.addr,
            20 * 1024 * 1024
        )
        .unwrap();
        s.write_all(&pseudo_random(6 * 1024 * 1024, 10 + i))
            .unwrap();
        streams.push(s);
    }
    // Let the daemon chew on them (blocks are being written), then kill it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while files_under(&blocks, "").len() <= before + 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        files_under(&blocks, "").len() > before + 2,
        "the uploads were writing blocks when the daemon was killed"
    );
    let dir = d.kill().await;
    drop(streams);

    // fsck on the dead daemon's data: nothing damaged or missing.
    crate::harness::assert_fsck_clean(dir.path());

    let d = TestDaemon::start_in(dir).await;
    assert!(
        files_under(&d.data_dir().join("blocks/tmp"), "").is_empty(),
        "partial block files are collected at start"
    );
    d.post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
        .await;
    let files: Value = d
        .get_auth(&format!("/vaults/{vid}/files?include_deleted=1"), &t)
        .await
        .json()
        .await
        .unwrap();
    let paths: Vec<&str> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["/done.bin"], "no partial upload is visible");
    let back = d
        .get_auth(&format!("/vaults/{vid}/download/done.bin"), &t)
        .await;
    assert_eq!(back.bytes().await.unwrap().to_vec(), done);

    // Damage is reported: flip a byte of a stored block.
    let victim = block_files(d.data_dir()).into_iter().next().unwrap();
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&victim, bytes).unwrap();
    let out = d.cli(&["fsck"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("damaged block"));
}

/// Group commit (many small files per block barrier and per catalog
/// transaction): SIGKILL in the middle of a folder's ingest leaves no
/// version naming a missing block, loses none of the files already
/// reported ingested, and every file the vault lists has its exact bytes.
#[tokio::test]
async fn sigkill_mid_folder_ingest_keeps_every_committed_file_whole() {
    let (d, t) = ready().await;
    let folder = tempfile::tempdir().unwrap();
    let total = 6000u64;
    let mut contents = std::collections::HashMap::new();
    for i in 0..total {
        let dir = folder.path().join(format!("d{:02}", i % 30));
        std::fs::create_dir_all(&dir).unwrap();
        let body = pseudo_random(50 + ((i * 37) % 6000) as usize, 100 + i);
        std::fs::write(dir.join(format!("{i}.bin")), &body).unwrap();
        contents.insert(format!("/d{:02}/{i}.bin", i % 30), body);
    }
    let resp = d
        .post_auth(
            "/vaults",
            &t,
            json!({"name": "Folder", "folder": folder.path().to_str().unwrap()}),
        )
        .await;
    let vid = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ingested = loop {
        let s: Value = d
            .get_auth(&format!("/vaults/{vid}/scan-status"), &t)
            .await
            .json()
            .await
            .unwrap();
        let n = s["ingested"].as_u64().unwrap();
        if n >= 50 {
            break n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let dir = d.kill().await;
    assert!(ingested < total, "the daemon was killed mid-ingest");

    crate::harness::assert_fsck_clean(dir.path());

    let d = TestDaemon::start_in(dir).await;
    d.post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
        .await;
    let files: Value = d
        .get_auth(&format!("/vaults/{vid}/files"), &t)
        .await
        .json()
        .await
        .unwrap();
    let listed = files.as_array().unwrap();
    assert!(
        listed.len() as u64 >= ingested,
        "{} listed, {ingested} were reported ingested",
        listed.len()
    );
    for f in listed {
        let path = f["path"].as_str().unwrap();
        let back = d
            .get_auth(&format!("/vaults/{vid}/download{path}"), &t)
            .await;
        assert_eq!(back.status(), 200, "{path}");
        assert_eq!(
            &back.bytes().await.unwrap()[..],
            &contents[path][..],
            "{path}"
        );
    }
}
