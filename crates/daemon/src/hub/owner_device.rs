//! The owner's own device, inside the daemon: an MLS client (keys derived
//! from the identity, state sealed in the catalog) that the hub treats like
//! any other device. It founds the 1:1 group with an agent from one of the
//! agent's KeyPackages (the hub's group UUID as the MLS group id, commit then
//! Welcome through the queue), encrypts what the owner writes, and pulls and
//! decrypts what agents answer. Plaintext exists only here, sealed at rest
//! under the identity, and in the owner's UI.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use holdfast_core::Catalog;
use holdfast_core::hub::groups::{self, Application, CommitOutcome};
use holdfast_core::hub::live::Outbound;
use holdfast_core::hub::mls::{MlsClient, MlsStateStore, Received};
use holdfast_core::hub::rooms::Room;
use holdfast_core::hub::{Hub, HubError, HubResult, conversations, devices, keypackages, queue};
use holdfast_core::identity::Identity;
use holdfast_core::identity::crypto;
use holdfast_core::time::now_ms;
use serde::Serialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const SEED_PURPOSE: &str = "holdfast/hub/owner-device/v1";
const STATE_PURPOSE: &str = "holdfast/hub/owner-mls-state/v1";
const TEXT_PURPOSE: &str = "holdfast/hub/owner-messages/v1";
/// A (group, agent) is re-admitted at most this often.
const READMIT_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// One message of an owner ↔ agent conversation, as the owner API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnerMessage {
    pub message_id: String,
    /// `to_agent` or `from_agent`.
    pub direction: String,
    pub text: String,
    pub created_at_ms: i64,
}

/// One message of a room, as the owner's device decrypted it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoomText {
    pub message_id: String,
    pub room_id: String,
    pub sender_device_id: String,
    /// Whether the owner's device sent it.
    pub mine: bool,
    pub text: String,
    pub created_at_ms: i64,
}

/// MLS state blobs sealed under the identity in `hub_owner_state`. The MLS
/// library calls it synchronously, so it runs on blocking threads and
/// waits for the catalog there.
struct SealedStore {
    catalog: Catalog,
    identity: Arc<Identity>,
    rt: tokio::runtime::Handle,
}

impl SealedStore {
    fn key(&self) -> anyhow::Result<crypto::Key> {
        Ok(self.identity.purpose_key(STATE_PURPOSE)?)
    }
}

impl MlsStateStore for SealedStore {
    fn load(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let k = key.to_owned();
        let sealed: Option<Vec<u8>> = self.rt.block_on(self.catalog.read(move |conn| {
            use rusqlite::OptionalExtension;
            conn.query_row(
                "SELECT sealed FROM hub_owner_state WHERE key = ?1",
                [k],
                |r| r.get(0),
            )
            .optional()
        }))?;
        match sealed {
            None => Ok(None),
            Some(s) => crypto::open(&*self.key()?, &s, key.as_bytes())
                .map(|p| Some(p.to_vec()))
                .ok_or_else(|| anyhow::anyhow!("sealed MLS state does not open")),
        }
    }

    fn save(&self, key: &str, value: &[u8]) -> anyhow::Result<()> {
        let sealed = crypto::seal(&*self.key()?, value, key.as_bytes());
        let k = key.to_owned();
        self.rt.block_on(self.catalog.write(move |conn| {
            conn.execute(
                "INSERT INTO hub_owner_state (key, sealed) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed",
                (k, sealed),
            )
        }))?;
        Ok(())
    }

    fn delete(&self, key: &str) -> anyhow::Result<()> {
        let k = key.to_owned();
        self.rt
            .block_on(self.catalog.write(move |conn| {
                conn.execute("DELETE FROM hub_owner_state WHERE key = ?1", [k])
            }))?;
        Ok(())
    }
}

/// (group, agent) → when it was last re-admitted.
type Readmitted = std::collections::HashMap<(String, String), std::time::Instant>;

struct Loaded {
    device_id: String,
    mls: Arc<MlsClient>,
}

#[derive(Clone)]
pub struct OwnerDevice {
    hub: Hub,
    identity: Arc<Identity>,
    /// Serialises MLS work (epochs advance one at a time).
    work: Arc<tokio::sync::Mutex<Option<Loaded>>>,
    /// (group, agent) → when it was last re-admitted.
    readmitted: Arc<std::sync::Mutex<Readmitted>>,
    /// Told when the device is first loaded, so it joins the hub at once.
    loaded: Arc<tokio::sync::Notify>,
}

fn locked() -> HubError {
    HubError::Unavailable("Holdfast is locked: unlock it to talk to your agents".into())
}

impl OwnerDevice {
    pub fn new(hub: Hub, identity: Arc<Identity>) -> Self {
        Self {
            hub,
            identity,
            work: Default::default(),
            readmitted: Default::default(),
            loaded: Default::default(),
        }
    }

    /// The owner device's id in the default tenant, once loaded.
    pub async fn device_id(&self) -> Option<String> {
        self.work.lock().await.as_ref().map(|l| l.device_id.clone())
    }

    /// The owner device's id, loading it first (503 while locked).
    pub async fn loaded_id(&self) -> HubResult<String> {
        let mut g = self.work.lock().await;
        Ok(self.load(&mut g).await?.device_id.clone())
    }

    /// Register (first time) and load the owner's device; needs the
    /// identity unlocked.
    async fn load<'a>(
        &self,
        guard: &'a mut tokio::sync::MutexGuard<'_, Option<Loaded>>,
    ) -> HubResult<&'a Loaded> {
        if guard.is_none() {
            let seed = self
                .identity
                .purpose_key(SEED_PURPOSE)
                .map_err(|_| locked())?;
            let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            let device =
                devices::ensure_owner(&self.hub.catalog, &self.hub.default_tenant, public).await?;
            conversations::relink(&self.hub.catalog, &self.hub.default_tenant).await?;
            let store = Arc::new(SealedStore {
                catalog: self.hub.catalog.clone(),
                identity: self.identity.clone(),
                rt: tokio::runtime::Handle::current(),
            });
            let id = device.id.clone();
            let seed_copy: [u8; 32] = *seed;
            let mls = tokio::task::spawn_blocking(move || MlsClient::new(&id, &seed_copy, store))
                .await
                .map_err(|e| HubError::Unavailable(e.to_string()))?
                .map_err(|e| HubError::Unavailable(format!("MLS client: {e}")))?;
            **guard = Some(Loaded {
                device_id: device.id,
                mls: Arc::new(mls),
            });
            self.loaded.notify_one();
        }
        Ok(guard.as_ref().expect("loaded above"))
    }

    /// Run the owner device: take nudges from the hub and pull the queue;
    /// also pull every 10 s (rows that waited while Holdfast was locked).
    pub async fn run(self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
        let mut reg: Option<(String, holdfast_core::hub::live::Registration)> = None;
        loop {
            if reg.is_none()
                && let Some(id) = self.ensure_loaded().await
            {
                let r = self.hub.live.join(&id);
                reg = Some((id, r));
            }
            let joined = reg.is_some();
            let nudge = async {
                match reg.as_mut() {
                    Some((_, r)) => r.rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {}
                _ = self.loaded.notified(), if !joined => continue,
                out = nudge => match out {
                    Some(Outbound::Frame(f)) if f["event"] == "mls_delivery" => {}
                    Some(Outbound::Frame(f)) if f["event"] == "mls_welcome_requested" => {
                        let data = &f["data"];
                        if let (Some(g), Some(d)) = (data["group_id"].as_str(), data["requesting_device_id"].as_str())
                            && let Err(e) = self.readmit(g, d).await
                        {
                            tracing::warn!(group = g, "re-admitting an agent failed: {e}");
                        }
                        continue;
                    }
                    Some(Outbound::Frame(_)) => continue,
                    Some(Outbound::Close(..)) | None => {
                        reg = None;
                        continue;
                    }
                },
            }
            if reg.is_some()
                && let Err(e) = self.pull().await
                && !matches!(e, HubError::Unavailable(_))
            {
                tracing::warn!("owner device pull failed: {e}");
            }
        }
        if let Some((id, r)) = reg {
            self.hub.live.leave(&id, r.serial);
        }
    }

    async fn ensure_loaded(&self) -> Option<String> {
        let mut g = self.work.lock().await;
        self.load(&mut g).await.ok().map(|l| l.device_id.clone())
    }

    /// Pull, decrypt and keep what agents sent; ack every row.
    pub async fn pull(&self) -> HubResult<usize> {
        let mut g = self.work.lock().await;
        let loaded = self.load(&mut g).await?;
        let (me, mls) = (loaded.device_id.clone(), loaded.mls.clone());
        let mut rows = queue::pull(&self.hub.catalog, &me).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let rank = |t: &str| match t {
            "welcome" => 0,
            "commit" => 1,
            _ => 2,
        };
        rows.sort_by(|a, b| {
            rank(a.message_type)
                .cmp(&rank(b.message_type))
                .then(a.created_at.cmp(&b.created_at))
        });
        let text_key = self
            .identity
            .purpose_key(TEXT_PURPOSE)
            .map_err(|_| locked())?;
        let mut ids = Vec::new();
        let mut got = 0;
        for row in rows {
            ids.push(row.queue_id.clone());
            if row.sender_device_id == me || row.message_type == "welcome" {
                continue;
            }
            let (m, group, payload) = (mls.clone(), row.group_id.clone(), row.payload.clone());
            let result = tokio::task::spawn_blocking(move || m.process(&group, &payload))
                .await
                .map_err(|e| HubError::Unavailable(e.to_string()))?;
            match result {
                Ok(Received::Application { plaintext, .. }) if row.linkage.room_id.is_some() => {
                    let text = String::from_utf8_lossy(&plaintext).into_owned();
                    let room = row.linkage.room_id.clone().unwrap_or_default();
                    if self
                        .keep_room(
                            &text_key,
                            &row.message_id,
                            &room,
                            &row.sender_device_id,
                            &text,
                            now_ms(),
                        )
                        .await?
                    {
                        got += 1;
                    }
                }
                Ok(Received::Application { plaintext, .. }) => {
                    let text = String::from_utf8_lossy(&plaintext).into_owned();
                    // History control replies are for the agent's own use.
                    if serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|v| {
                            v.get("type")
                                .and_then(Value::as_str)
                                .map(|t| t.starts_with("history_"))
                        })
                        .unwrap_or(false)
                    {
                        continue;
                    }
                    if self
                        .keep(
                            &text_key,
                            &row.message_id,
                            &row.sender_device_id,
                            "from_agent",
                            &text,
                            now_ms(),
                        )
                        .await?
                    {
                        got += 1;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(group = %row.group_id, "an agent message did not decrypt: {e}")
                }
            }
        }
        queue::ack(&self.hub.catalog, &me, ids).await?;
        Ok(got)
    }

    /// Seal and store one message; announce it. False if already stored.
    async fn keep(
        &self,
        key: &crypto::Key,
        message_id: &str,
        agent: &str,
        direction: &'static str,
        text: &str,
        created_ms: i64,
    ) -> HubResult<bool> {
        let sealed = crypto::seal(key, text.as_bytes(), message_id.as_bytes());
        let (mid, a) = (message_id.to_owned(), agent.to_owned());
        let added = self
            .hub
            .catalog
            .write(move |conn| {
                conn.execute(
                    "INSERT OR IGNORE INTO hub_owner_messages (message_id, agent_device_id, direction, sealed, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    (mid, a, direction, sealed, created_ms),
                )
            })
            .await?;
        if added > 0 {
            self.hub.events.publish(
                "agent_message",
                json!({
                    "device_id": agent, "message_id": message_id, "direction": direction,
                    "text": text, "created_at_ms": created_ms,
                }),
            );
        }
        Ok(added > 0)
    }

    /// Send `text` to an agent, founding the 1:1 group on first use.
    pub async fn send(&self, agent: &str, text: &str) -> HubResult<OwnerMessage> {
        let mut g = self.work.lock().await;
        let loaded = self.load(&mut g).await?;
        let (me, mls) = (loaded.device_id.clone(), loaded.mls.clone());
        let tenant = self.hub.default_tenant.clone();
        let d = devices::get_in(&self.hub.catalog, &tenant, agent).await?;
        if d.device_type != "agent" {
            return Err(HubError::NotFound(devices::NOT_FOUND.into()));
        }
        if d.status != devices::ACTIVE {
            return Err(HubError::Conflict(format!(
                "The agent is {}; only active agents get messages",
                d.status
            )));
        }
        let conv = match conversations::between(&self.hub.catalog, &me, agent).await? {
            Some(c) => c,
            None => {
                conversations::relink(&self.hub.catalog, &tenant).await?;
                conversations::between(&self.hub.catalog, &me, agent)
                    .await?
                    .ok_or_else(|| {
                        HubError::Conflict("No conversation with this agent yet".into())
                    })?
            }
        };
        let existing = match groups::of_conversation(&self.hub, &conv.id).await? {
            Some(gid) => {
                // The MLS library reads its state store synchronously.
                let (m, g) = (mls.clone(), gid.clone());
                let held = tokio::task::spawn_blocking(move || m.epoch(&g))
                    .await
                    .map_err(|e| HubError::Unavailable(e.to_string()))?;
                matches!(held, Ok(Some(_))).then_some(gid)
            }
            None => None,
        };
        let group = match existing {
            Some(gid) => gid,
            None => self.found(&mls, &me, &tenant, &conv, agent).await?,
        };
        let body = json!({"type": "text", "text": text}).to_string();
        let (m, gid, plain) = (mls.clone(), group.clone(), body.into_bytes());
        let (ct, epoch) = tokio::task::spawn_blocking(move || m.encrypt(&gid, &plain))
            .await
            .map_err(|e| HubError::Unavailable(e.to_string()))?
            .map_err(|e| HubError::Unavailable(format!("MLS encrypt: {e}")))?;
        // Storing and fanning out need no MLS state: other sends may
        // encrypt meanwhile (receivers accept a generation out of order).
        drop(g);
        let (message_id, created_ms) = groups::application(
            &self.hub,
            &me,
            Application {
                group_id: group,
                payload: ct,
                epoch: Some(epoch as i64),
                message_type: "text".into(),
                client_message_id: None,
                topic_id: None,
                parent_span_id: None,
            },
        )
        .await?;
        let key = self
            .identity
            .purpose_key(TEXT_PURPOSE)
            .map_err(|_| locked())?;
        self.keep(&key, &message_id, agent, "to_agent", text, created_ms)
            .await?;
        Ok(OwnerMessage {
            message_id,
            direction: "to_agent".into(),
            text: text.to_owned(),
            created_at_ms: created_ms,
        })
    }

    /// Found the 1:1 group from one of the agent's KeyPackages: commit
    /// (epoch 1), then the Welcome through the agent's queue.
    async fn found(
        &self,
        mls: &Arc<MlsClient>,
        me: &str,
        tenant: &str,
        conv: &conversations::Conversation,
        agent: &str,
    ) -> HubResult<String> {
        let claimed = keypackages::claim(&self.hub.catalog, tenant, vec![agent.to_owned()]).await?;
        let Some((_, kp)) = claimed.into_iter().next() else {
            return Err(HubError::Conflict(
                "The agent has no KeyPackage on the hub yet; start the agent and try again".into(),
            ));
        };
        let gid = groups::create_direct(
            &self.hub,
            tenant,
            &conv.id,
            &conv.conversation_group_id,
            me,
            agent,
        )
        .await?;
        let (m, g) = (mls.clone(), gid.clone());
        let founded = tokio::task::spawn_blocking(move || m.found_group(&g, &[kp]))
            .await
            .map_err(|e| HubError::Unavailable(e.to_string()))?
            .map_err(|e| {
                HubError::BadRequest(format!("the agent's KeyPackage is unusable: {e}"))
            })?;
        match groups::commit(
            &self.hub,
            me,
            &gid,
            founded.epoch as i64,
            founded.commit,
            vec![agent.to_owned()],
            None,
        )
        .await?
        {
            CommitOutcome::Accepted { .. } => {}
            CommitOutcome::Refused(d) => {
                return Err(HubError::Conflict(format!(
                    "the hub refused the founding commit: {d}"
                )));
            }
        }
        groups::welcome(&self.hub, me, &gid, agent, founded.welcome).await?;
        Ok(gid)
    }

    /// Answer an agent's Welcome request for a 1:1 group this device
    /// founded (§7.4): unless its Welcome is still waiting in the queue or it
    /// was re-admitted in the last minute, remove its stale leaf and add it
    /// again from a fresh KeyPackage, commit, then queue the Welcome.
    async fn readmit(&self, group: &str, agent: &str) -> HubResult<()> {
        let mut g = self.work.lock().await;
        let loaded = self.load(&mut g).await?;
        let (me, mls) = (loaded.device_id.clone(), loaded.mls.clone());
        if agent == me || !groups::founded_by(&self.hub, group, &me).await? {
            return Ok(());
        }
        if groups::welcome_waiting(&self.hub, group, agent).await? {
            return Ok(());
        }
        {
            let mut recent = self.readmitted.lock().unwrap_or_else(|p| p.into_inner());
            let now = std::time::Instant::now();
            recent.retain(|_, at| now.duration_since(*at) < READMIT_EVERY);
            if recent.contains_key(&(group.to_owned(), agent.to_owned())) {
                return Ok(());
            }
            recent.insert((group.to_owned(), agent.to_owned()), now);
        }
        let claimed = keypackages::claim(
            &self.hub.catalog,
            &self.hub.default_tenant,
            vec![agent.to_owned()],
        )
        .await?;
        let Some((_, kp)) = claimed.into_iter().next() else {
            return Err(HubError::Conflict(
                "the agent has no KeyPackage to re-admit it with".into(),
            ));
        };
        let (m, gid) = (mls.clone(), group.to_owned());
        let added = tokio::task::spawn_blocking(move || m.readmit(&gid, &kp))
            .await
            .map_err(|e| HubError::Unavailable(e.to_string()))?
            .map_err(|e| HubError::BadRequest(format!("re-admit: {e}")))?;
        match groups::commit(
            &self.hub,
            &me,
            group,
            added.epoch as i64,
            added.commit,
            vec![agent.to_owned()],
            None,
        )
        .await?
        {
            CommitOutcome::Accepted { .. } => {
                groups::welcome(&self.hub, &me, group, agent, added.welcome).await
            }
            CommitOutcome::Refused(d) => Err(HubError::Conflict(format!(
                "the hub refused the re-admit commit: {d}"
            ))),
        }
    }

    /// Run blocking MLS work off the async threads.
    async fn blocking<T: Send + 'static>(
        f: impl FnOnce() -> Result<T, holdfast_core::hub::mls::MlsError> + Send + 'static,
    ) -> HubResult<Result<T, holdfast_core::hub::mls::MlsError>> {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| HubError::Unavailable(e.to_string()))
    }

    /// This device and its MLS client, if it is the room's owner device.
    async fn room_client(
        &self,
        guard: &mut tokio::sync::MutexGuard<'_, Option<Loaded>>,
        room: &Room,
    ) -> HubResult<Option<(String, Arc<MlsClient>)>> {
        let loaded = self.load(guard).await?;
        if room.owner_device_id.as_deref() != Some(loaded.device_id.as_str()) {
            return Ok(None);
        }
        Ok(Some((loaded.device_id.clone(), loaded.mls.clone())))
    }

    async fn commit_and_welcome(
        &self,
        me: &str,
        gid: &str,
        epoch: u64,
        commit: Vec<u8>,
        added: &[String],
        welcome: Option<Vec<u8>>,
    ) -> HubResult<()> {
        match groups::commit(
            &self.hub,
            me,
            gid,
            epoch as i64,
            commit,
            added.to_vec(),
            None,
        )
        .await?
        {
            CommitOutcome::Accepted { .. } => {}
            CommitOutcome::Refused(d) => {
                return Err(HubError::Conflict(format!(
                    "the hub refused the room commit: {d}"
                )));
            }
        }
        if let Some(w) = welcome {
            for a in added {
                groups::welcome(&self.hub, me, gid, a, w.clone()).await?;
            }
        }
        Ok(())
    }

    /// Found a room's MLS group under the hub's group UUID (§7.1) with the
    /// agent members that have a KeyPackage, or add `only` to it: commit,
    /// then one Welcome row per added agent (carrying `room_id`).
    pub async fn room_add(&self, room: &Room, only: Option<&str>) -> HubResult<Vec<String>> {
        let mut g = self.work.lock().await;
        let Some((me, mls)) = self.room_client(&mut g, room).await? else {
            return Ok(Vec::new());
        };
        let wanted: Vec<String> = match only {
            Some(a) => vec![a.to_owned()],
            None => room.agent_ids(),
        };
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let claimed = keypackages::claim(&self.hub.catalog, &room.tenant_id, wanted).await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, kps): (Vec<String>, Vec<Vec<u8>>) = claimed.into_iter().unzip();
        let gid = room.group_id.clone();
        let (m, g2) = (mls.clone(), gid.clone());
        let founded = Self::blocking(move || m.epoch(&g2)).await?;
        let (m, g2) = (mls.clone(), gid.clone());
        let (commit, welcome, epoch) = if matches!(founded, Ok(Some(_))) {
            let a = Self::blocking(move || m.add_members(&g2, &kps))
                .await?
                .map_err(|e| HubError::BadRequest(format!("adding to the room group: {e}")))?;
            (a.commit, a.welcome, a.epoch)
        } else {
            let f = Self::blocking(move || m.found_group(&g2, &kps))
                .await?
                .map_err(|e| HubError::BadRequest(format!("founding the room group: {e}")))?;
            (f.commit, f.welcome, f.epoch)
        };
        self.commit_and_welcome(&me, &gid, epoch, commit, &ids, Some(welcome))
            .await?;
        Ok(ids)
    }

    /// Remove an agent from the room's MLS group (a commit), before the hub
    /// takes it off the roster.
    pub async fn room_remove(&self, room: &Room, agent: &str) -> HubResult<()> {
        let mut g = self.work.lock().await;
        let Some((me, mls)) = self.room_client(&mut g, room).await? else {
            return Ok(());
        };
        let (m, gid, a) = (mls.clone(), room.group_id.clone(), vec![agent.to_owned()]);
        match Self::blocking(move || m.remove_members(&gid, &a)).await? {
            Ok((commit, epoch)) => {
                self.commit_and_welcome(&me, &room.group_id, epoch, commit, &[], None)
                    .await
            }
            // Never founded, or the agent never joined: nothing to commit.
            Err(_) => Ok(()),
        }
    }

    /// Encrypt `text` for a room (raw UTF-8, §7.2); the sender id, the
    /// ciphertext and its epoch.
    pub async fn encrypt_room(&self, room: &Room, text: &str) -> HubResult<(String, Vec<u8>, i64)> {
        let mut g = self.work.lock().await;
        let Some((me, mls)) = self.room_client(&mut g, room).await? else {
            return Err(HubError::Conflict(
                "This computer is not the room's owner device".into(),
            ));
        };
        let (m, gid, plain) = (mls.clone(), room.group_id.clone(), text.as_bytes().to_vec());
        let (ct, epoch) = Self::blocking(move || m.encrypt(&gid, &plain))
            .await?
            .map_err(|_| {
                HubError::Conflict(
                    "The room has no agent that joined yet (no KeyPackage); try again once one is online"
                        .into(),
                )
            })?;
        Ok((me, ct, epoch as i64))
    }

    /// Seal and keep what this device sent to a room.
    pub async fn keep_sent(
        &self,
        room: &str,
        message_id: &str,
        text: &str,
        created_ms: i64,
    ) -> HubResult<()> {
        let key = self
            .identity
            .purpose_key(TEXT_PURPOSE)
            .map_err(|_| locked())?;
        let me = self.device_id().await.unwrap_or_default();
        self.keep_room(&key, message_id, room, &me, text, created_ms)
            .await
            .map(|_| ())
    }

    /// Seal and store one room message; announce it. False if already stored.
    async fn keep_room(
        &self,
        key: &crypto::Key,
        message_id: &str,
        room: &str,
        sender: &str,
        text: &str,
        created_ms: i64,
    ) -> HubResult<bool> {
        let sealed = crypto::seal(key, text.as_bytes(), message_id.as_bytes());
        let (mid, r, s) = (message_id.to_owned(), room.to_owned(), sender.to_owned());
        let added = self
            .hub
            .catalog
            .write(move |conn| {
                conn.execute(
                    "INSERT OR IGNORE INTO hub_owner_room_messages (message_id, room_id, sender_device_id, sealed, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    (mid, r, s, sealed, created_ms),
                )
            })
            .await?;
        if added > 0 {
            self.hub.events.publish(
                "agent_room_text",
                json!({
                    "room_id": room, "message_id": message_id, "sender_device_id": sender,
                    "text": text, "created_at_ms": created_ms,
                }),
            );
        }
        Ok(added > 0)
    }

    /// What this device read and sent in a room, oldest first.
    pub async fn room_messages(
        &self,
        room: &str,
        since_ms: Option<i64>,
        limit: usize,
    ) -> HubResult<Vec<RoomText>> {
        let key = self
            .identity
            .purpose_key(TEXT_PURPOSE)
            .map_err(|_| locked())?;
        let me = self.device_id().await.unwrap_or_default();
        let r = room.to_owned();
        let rows: Vec<(String, String, Vec<u8>, i64)> = self
            .hub
            .catalog
            .read(move |conn| {
                let mut st = conn.prepare(
                    "SELECT message_id, sender_device_id, sealed, created_ms FROM hub_owner_room_messages
                     WHERE room_id = ?1 AND created_ms > ?2 ORDER BY created_ms, rowid LIMIT ?3",
                )?;
                st.query_map((r, since_ms.unwrap_or(-1), limit as i64), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect()
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, sender, sealed, created)| {
                let text = crypto::open(&key, &sealed, id.as_bytes())?;
                Some(RoomText {
                    message_id: id,
                    room_id: room.to_owned(),
                    mine: sender == me,
                    sender_device_id: sender,
                    text: String::from_utf8_lossy(&text).into_owned(),
                    created_at_ms: created,
                })
            })
            .collect())
    }

    /// The conversation with an agent, oldest first.
    pub async fn messages(
        &self,
        agent: &str,
        since_ms: Option<i64>,
        limit: usize,
    ) -> HubResult<Vec<OwnerMessage>> {
        devices::get_in(&self.hub.catalog, &self.hub.default_tenant, agent).await?;
        let key = self
            .identity
            .purpose_key(TEXT_PURPOSE)
            .map_err(|_| locked())?;
        let a = agent.to_owned();
        let rows: Vec<(String, String, Vec<u8>, i64)> = self
            .hub
            .catalog
            .read(move |conn| {
                let mut st = conn.prepare(
                    "SELECT message_id, direction, sealed, created_ms FROM hub_owner_messages
                     WHERE agent_device_id = ?1 AND created_ms > ?2 ORDER BY created_ms, rowid LIMIT ?3",
                )?;
                st.query_map((a, since_ms.unwrap_or(-1), limit as i64), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect()
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, direction, sealed, created)| {
                let text = crypto::open(&key, &sealed, id.as_bytes())?;
                Some(OwnerMessage {
                    message_id: id,
                    direction,
                    text: String::from_utf8_lossy(&text).into_owned(),
                    created_at_ms: created,
                })
            })
            .collect())
    }
}
