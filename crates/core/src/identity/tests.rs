use ed25519_dalek::{Verifier, VerifyingKey};

use super::*;

async fn fresh() -> (tempfile::TempDir, Catalog, Identity) {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
    let id = Identity::load(cat.clone(), None).await.unwrap();
    (dir, cat, id)
}

#[tokio::test]
async fn lifecycle_init_lock_unlock() {
    let (_d, cat, id) = fresh().await;
    assert_eq!(id.state(), LockState::Uninitialized);
    assert!(matches!(
        id.unlock("whatever1").await,
        Err(IdentityError::Uninitialized)
    ));
    assert!(matches!(
        id.init("short").await,
        Err(IdentityError::WeakPassphrase(_))
    ));
    let created = id.init("a good passphrase").await.unwrap();
    assert_eq!(created.recovery_phrase.split(' ').count(), 24);
    assert_eq!(id.state(), LockState::Unlocked);
    assert!(matches!(
        id.init("a good passphrase").await,
        Err(IdentityError::AlreadyInitialized)
    ));

    id.lock();
    assert_eq!(id.state(), LockState::Locked);
    assert!(matches!(id.sign(b"x"), Err(IdentityError::Locked)));
    // Backup keys outlive the lock.
    assert!(id.backup_key("app").is_ok());
    id.unlock("a good passphrase").await.unwrap();
    let (key, sig) = id.sign(b"hello").unwrap();
    assert_eq!(key, created.agent_pub_key);
    VerifyingKey::from_bytes(key.as_bytes())
        .unwrap()
        .verify(b"hello", &sig)
        .unwrap();

    // A new process on the same catalog starts locked, with no backup key.
    let again = Identity::load(cat, None).await.unwrap();
    assert_eq!(again.state(), LockState::Locked);
    assert_eq!(again.agent_pub_key(), Some(created.agent_pub_key));
    assert!(matches!(
        again.backup_key("app"),
        Err(IdentityError::NeverUnlocked)
    ));
    again.unlock("a good passphrase").await.unwrap();
    assert_eq!(
        *again.backup_key("app").unwrap(),
        *id.backup_key("app").unwrap()
    );
    assert_ne!(
        *again.backup_key("app").unwrap(),
        *id.backup_key("other").unwrap()
    );
}

#[tokio::test]
async fn wrong_passphrases_back_off() {
    let (_d, _c, id) = fresh().await;
    id.init("a good passphrase").await.unwrap();
    id.lock();
    for _ in 0..2 {
        match id.unlock("not it at all").await {
            Err(IdentityError::WrongPassphrase { retry_after_ms }) => assert_eq!(retry_after_ms, 0),
            other => panic!("{:?}", other.err()),
        }
    }
    match id.unlock("not it at all").await {
        Err(IdentityError::WrongPassphrase { retry_after_ms }) => assert_eq!(retry_after_ms, 1000),
        other => panic!("{:?}", other.err()),
    }
    // During the backoff even the right passphrase is refused unchecked.
    assert!(matches!(
        id.unlock("a good passphrase").await,
        Err(IdentityError::Backoff { .. })
    ));
    assert_eq!(backoff_after(4), Duration::from_secs(2));
    assert_eq!(backoff_after(40), MAX_BACKOFF);
}

#[tokio::test]
async fn recovery_phrase_restores_the_same_identity_anywhere() {
    let (_d, _c, id) = fresh().await;
    let created = id.init("a good passphrase").await.unwrap();
    // Forgotten passphrase: recover in place with a new one.
    id.lock();
    let k = id
        .recover(&created.recovery_phrase, "a brand new passphrase")
        .await
        .unwrap();
    assert_eq!(k, created.agent_pub_key);
    id.lock();
    assert!(id.unlock("a good passphrase").await.is_err());
    let (_d2, _c2, fresh_device) = fresh().await;
    // Extra whitespace and capitals are forgiven.
    let messy = format!(
        "  {}  ",
        created.recovery_phrase.to_uppercase().replace(' ', "   ")
    );
    let k2 = fresh_device
        .recover(&messy, "another passphrase")
        .await
        .unwrap();
    assert_eq!(k2, created.agent_pub_key);
    // A phrase of another identity is refused; garbage is refused.
    let (_d3, _c3, other) = fresh().await;
    let other_created = other.init("a good passphrase").await.unwrap();
    assert!(matches!(
        id.recover(&other_created.recovery_phrase, "whatever123")
            .await,
        Err(IdentityError::WrongPhrase)
    ));
    assert!(matches!(
        id.recover("abandon abandon", "whatever123").await,
        Err(IdentityError::BadPhrase)
    ));
}

#[tokio::test]
async fn link_signatures_and_link_shaped_payloads() {
    let (_d, _c, id) = fresh().await;
    let created = id.init("a good passphrase").await.unwrap();
    let app = AgentPubKey::from_bytes([5; 32]);
    let (ours, sig) = id.sign_link(&app).unwrap();
    let payload = agent_key::link_payload(&ours, &app);
    VerifyingKey::from_bytes(created.agent_pub_key.as_bytes())
        .unwrap()
        .verify(&payload, &sig)
        .unwrap();
    assert!(matches!(
        id.sign(&payload),
        Err(IdentityError::LinkShapedPayload)
    ));
}

#[tokio::test]
async fn change_passphrase_needs_the_old_one() {
    let (_d, _c, id) = fresh().await;
    id.init("a good passphrase").await.unwrap();
    assert!(
        id.change_passphrase("wrong one!", "new passphrase")
            .await
            .is_err()
    );
    id.change_passphrase("a good passphrase", "new passphrase")
        .await
        .unwrap();
    id.lock();
    id.unlock("new passphrase").await.unwrap();
}

#[tokio::test]
async fn auto_lock_after_idle() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
    let id = std::sync::Arc::new(
        Identity::load(cat, Some(Duration::from_millis(300)))
            .await
            .unwrap(),
    );
    id.init("a good passphrase").await.unwrap();
    let mut changes = id.subscribe();
    let cancel = tokio_util::sync::CancellationToken::new();
    let runner = {
        let id = id.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move { id.run_auto_lock(cancel).await })
    };
    tokio::time::timeout(
        Duration::from_secs(10),
        changes.wait_for(|s| *s == LockState::Locked),
    )
    .await
    .expect("auto-lock happened")
    .unwrap();
    cancel.cancel();
    runner.await.unwrap();
}
