use serde_json::json;

use super::*;

fn store() -> (tempfile::TempDir, Backups) {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
    (dir, Backups::new(cat))
}

fn backup<'a>(client: &'a str, label: Option<&'a str>, data: &'a Value) -> NewBackup<'a> {
    NewBackup {
        client_id: client,
        app_name: "App",
        content_type: "application/json",
        label,
        data,
    }
}

#[tokio::test]
async fn snapshots_rotate_at_ten_and_labels_overwrite() {
    let (_d, b) = store();
    let key = [1u8; 32];
    for i in 0..13 {
        let data = json!({ "n": i });
        b.put(&key, backup("app", None, &data)).await.unwrap();
    }
    let data = json!({ "pinned": true });
    b.put(&key, backup("app", Some("pinned"), &data))
        .await
        .unwrap();
    let data = json!({ "pinned": 2 });
    b.put(&key, backup("app", Some("pinned"), &data))
        .await
        .unwrap();
    let list = b.list(Some("app")).await.unwrap();
    assert_eq!(list.iter().filter(|m| !m.labeled).count(), 10);
    assert_eq!(list.iter().filter(|m| m.labeled).count(), 1);
    // The oldest three were rotated out; the newest snapshot is n = 12.
    let (_, newest_snapshot) = b
        .get(
            &key,
            "app",
            Some(&list.iter().find(|m| !m.labeled).unwrap().label),
        )
        .await
        .unwrap();
    assert_eq!(newest_snapshot["n"], 12);
    let (_, pinned) = b.get(&key, "app", Some("pinned")).await.unwrap();
    assert_eq!(pinned["pinned"], 2);
    // "latest" is the newest of all.
    let (meta, _) = b.get(&key, "app", Some(LATEST)).await.unwrap();
    assert_eq!(meta.label, "pinned");
}

#[tokio::test]
async fn keys_and_labels_are_bound() {
    let (_d, b) = store();
    let data = json!({"secret": "x"});
    b.put(&[1; 32], backup("app", Some("a"), &data))
        .await
        .unwrap();
    assert!(matches!(
        b.get(&[2; 32], "app", Some("a")).await,
        Err(BackupError::Corrupt)
    ));
    assert!(matches!(
        b.get(&[1; 32], "other", Some("a")).await,
        Err(BackupError::NotFound)
    ));
    assert!(matches!(
        b.get(&[1; 32], "app", Some("b")).await,
        Err(BackupError::NotFound)
    ));
    assert!(matches!(
        b.put(&[1; 32], backup("app", Some("latest"), &data)).await,
        Err(BackupError::BadLabel(_))
    ));
    assert!(matches!(
        b.put(&[1; 32], backup("app", Some("../x"), &data)).await,
        Err(BackupError::BadLabel(_))
    ));
}

#[tokio::test]
async fn limits_per_backup_and_per_app() {
    let (_d, b) = store();
    let big = json!("x".repeat(MAX_BACKUP_BYTES));
    assert!(matches!(
        b.put(&[1; 32], backup("app", None, &big)).await,
        Err(BackupError::TooLarge { .. })
    ));
    let nine_mib = json!("y".repeat(9 * 1024 * 1024));
    for l in ["a", "b", "c", "d", "e"] {
        b.put(&[1; 32], backup("app", Some(l), &nine_mib))
            .await
            .unwrap();
    }
    assert!(matches!(
        b.put(&[1; 32], backup("app", Some("f"), &nine_mib)).await,
        Err(BackupError::QuotaExceeded { .. })
    ));
    // Overwriting a label replaces its size rather than adding to it.
    b.put(&[1; 32], backup("app", Some("a"), &nine_mib))
        .await
        .unwrap();
    assert_eq!(b.list(Some("app")).await.unwrap().len(), 5);
}

#[tokio::test]
async fn delete_and_summary() {
    let (_d, b) = store();
    let canonical = json!({"version": 1, "cells": [{"records": [
        {"entryType": "Poll", "human_readable": {}, "raw_record": {"entry_b64": ""}}]}]});
    let meta = b
        .put(&[1; 32], backup("app", None, &canonical))
        .await
        .unwrap();
    assert_eq!(meta.summary.unwrap().total_records, 1);
    assert_eq!(b.delete("app", Some(LATEST)).await.unwrap(), meta.label);
    assert!(matches!(
        b.delete("app", None).await,
        Err(BackupError::NotFound)
    ));
}
