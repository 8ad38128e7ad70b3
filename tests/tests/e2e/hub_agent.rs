//! `TestAgent`: an agent device speaking the hub's device protocol
//! (`agent-hub-device-protocol.md`) the way current agent clients do:
//! enrolment with a proof of possession (§2.1), a signed activation (§2.3,
//! §2.4), device-JWT REST calls, KeyPackages (§5), the WebSocket with
//! application-level ping/pong (§4), the delivery queue (§6) and MLS
//! application messages (§7.2). It is written from the spec, not from the
//! server, so the end-to-end tests check the hub against the protocol.
//!
//! The pure parts (keys, fingerprint, activation message) are checked
//! against the spec's worked example (§2.5) by the unit tests at the end.

// The hub's end-to-end tests use this agent piece by piece; not every helper
// is used by every build of the test binary.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use blake2::digest::consts::U8;
use blake2::{Blake2b, Digest};
use ed25519_dalek::{Signer, SigningKey};
use futures::{SinkExt, StreamExt};
use holdfast_core::hub::mls::{MemoryStore, MlsClient, MlsStateStore, Received};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The `client_version` the agent names on the WebSocket (§4.1).
pub const CLIENT_VERSION: &str = "holdfast-test-agent@0.1";
/// The `User-Agent` of the agent's authenticated REST calls (§0).
const USER_AGENT: &str = "holdfast-test-agent/0.1";
/// A generic HTTP-library `User-Agent`, for the calls that carry one (§0).
const GENERIC_USER_AGENT: &str = "python-requests/2.32";
/// The 23-byte domain tag of the activation message (§2.3).
const ACTIVATION_TAG: &[u8; 23] = b"agentvault:activate:v1:";

/// A decrypted application message the agent received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub message_id: String,
    pub group_id: String,
    pub text: String,
    pub sender_device_id: String,
    /// `"queue"` (pulled from the delivery queue) or `"live"` (a socket frame).
    pub via: &'static str,
    /// The room it was sent in, for room traffic.
    pub room_id: Option<String>,
}

/// What the socket task hands the test.
#[derive(Debug)]
enum Event {
    Frame(Value),
    /// The socket ended: the server's close code, or `None` when it ended
    /// without a close frame.
    Closed(Option<u16>),
}

pub struct TestAgent {
    pub base: String,
    pub http: reqwest::Client,
    pub seed: [u8; 32],
    signing: SigningKey,
    x25519_public: [u8; 32],
    pub device_id: Option<String>,
    pub jwt: Option<String>,
    pub mls: Option<MlsClient>,
    /// The MLS state store behind `mls` (kept so a test can rebuild the
    /// client as a restarted process would).
    pub mls_store: Arc<MemoryStore>,
    /// Frames to send on the socket.
    outbound: Option<mpsc::UnboundedSender<Message>>,
    /// Frames and the close from the socket task.
    inbound: Option<mpsc::UnboundedReceiver<Event>>,
    socket_task: Option<JoinHandle<()>>,
    /// Frames read but not yet asked for (see [`TestAgent::next_frame`]).
    backlog: VecDeque<Value>,
    /// The close code once the socket has ended.
    closed: Option<Option<u16>>,
    /// Pongs the agent sent in answer to the hub's pings.
    pub pongs: Arc<AtomicUsize>,
    /// Binary or non-JSON frames the hub sent (§4.2 forbids both).
    pub bad_frames: Arc<AtomicUsize>,
    /// Dedup keys (`client_message_id`, else `message_id`) already handled.
    seen: HashSet<String>,
    /// group id → the key the agent files the group under and uses as
    /// `conversation_id` (§4.3): the Welcome's `conversation_group_id`,
    /// else its `conversation_id`, else `room_id`.
    pub conversations: HashMap<String, String>,
}

impl TestAgent {
    /// `base_url` e.g. `http://127.0.0.1:PORT` (no trailing slash needed).
    pub fn new(base_url: &str, seed: [u8; 32], x25519_secret: [u8; 32]) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let signing = SigningKey::from_bytes(&seed);
        let x25519_public =
            x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(x25519_secret))
                .to_bytes();
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("http client");
        TestAgent {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
            seed,
            signing,
            x25519_public,
            device_id: None,
            jwt: None,
            mls: None,
            mls_store: Arc::new(MemoryStore::default()),
            outbound: None,
            inbound: None,
            socket_task: None,
            backlog: VecDeque::new(),
            closed: None,
            pongs: Arc::new(AtomicUsize::new(0)),
            bad_frames: Arc::new(AtomicUsize::new(0)),
            seen: HashSet::new(),
            conversations: HashMap::new(),
        }
    }

    // ---- keys and proofs (§2) ----

    pub fn identity_public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    pub fn identity_public_key_hex(&self) -> String {
        hex::encode(self.identity_public_key())
    }

    pub fn ephemeral_public_key_hex(&self) -> String {
        hex::encode(self.x25519_public)
    }

    /// §2.2: BLAKE2b-64 of the identity public key, as `xx:xx:…`.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.identity_public_key())
    }

    /// §2.1: the identity key's signature over its own 32 public-key bytes.
    pub fn proof_of_possession_hex(&self) -> String {
        hex::encode(self.signing.sign(&self.identity_public_key()).to_bytes())
    }

    /// §2.3: the signature over the 47-byte activation message.
    pub fn activation_signature_hex(&self, device_id: &str, signed_at: u64) -> String {
        let message = activation_message(device_id, signed_at);
        hex::encode(self.signing.sign(&message).to_bytes())
    }

    /// The §2.1 enrolment body exactly as current clients send it.
    pub fn enroll_body(&self, invite_token: &str, platform: Option<&str>) -> Value {
        let mut body = json!({
            "invite_token": invite_token,
            "identity_public_key": self.identity_public_key_hex(),
            "ephemeral_public_key": self.ephemeral_public_key_hex(),
            "proof_of_possession": self.proof_of_possession_hex(),
            "activation_pop": true,
        });
        if let Some(p) = platform {
            body["platform"] = json!(p);
        }
        body
    }

    fn id(&self) -> &str {
        self.device_id
            .as_deref()
            .expect("the agent is not enrolled")
    }

    fn mls(&self) -> &MlsClient {
        self.mls.as_ref().expect("the agent is not activated")
    }

    // ---- enrolment, status, activation, tokens (§1–§3) ----

    /// `POST /api/v1/enroll`. On 2xx stores `device_id` and checks that a
    /// returned non-empty `fingerprint` equals ours (§2.1, §2.2).
    pub async fn enroll(
        &mut self,
        invite_token: &str,
        platform: Option<&str>,
    ) -> reqwest::Response {
        let body = self.enroll_body(invite_token, platform);
        let resp = self
            .http
            .post(format!("{}/api/v1/enroll", self.base))
            .header("User-Agent", USER_AGENT)
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .expect("enroll request");
        let (resp, json) = buffered(resp).await;
        if resp.status().is_success() {
            let id = json["device_id"]
                .as_str()
                .expect("enrolment answer has no device_id");
            if let Some(fp) = json["fingerprint"].as_str().filter(|f| !f.is_empty()) {
                assert_eq!(
                    fp,
                    self.fingerprint(),
                    "the hub's fingerprint differs (§2.2)"
                );
            }
            self.device_id = Some(id.to_owned());
        }
        resp
    }

    /// `GET /api/v1/devices/{id}/status`, no auth, generic headers (§3.1).
    pub async fn status(&self) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}/api/v1/devices/{}/status", self.base, self.id()))
            .header("User-Agent", GENERIC_USER_AGENT)
            .header("Accept", "*/*")
            .send()
            .await
            .expect("status request");
        status_json(resp).await
    }

    /// `POST /api/v1/devices/{id}/activate` signed now (§2.3, §2.4). On 2xx
    /// stores `device_jwt` and builds the MLS client over `mls_store`.
    pub async fn activate(&mut self) -> reqwest::Response {
        self.activate_at(unix_now()).await
    }

    /// Activation with a chosen `signed_at` (for the ±300 s window).
    pub async fn activate_at(&mut self, signed_at: u64) -> reqwest::Response {
        let body = json!({
            "activation_signature": self.activation_signature_hex(self.id(), signed_at),
            "signed_at": signed_at,
        });
        let resp = self
            .http
            .post(format!(
                "{}/api/v1/devices/{}/activate",
                self.base,
                self.id()
            ))
            .header("User-Agent", USER_AGENT)
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .expect("activate request");
        let (resp, json) = buffered(resp).await;
        if resp.status().is_success() {
            let jwt = json["device_jwt"]
                .as_str()
                .expect("activation answer has no device_jwt (§2.4)");
            self.jwt = Some(jwt.to_owned());
            self.restart_mls();
        }
        resp
    }

    /// A new MLS client over the same state store, as after a process
    /// restart: group state survives, KeyPackage private keys do not.
    pub fn restart_mls(&mut self) {
        let store: Arc<dyn MlsStateStore> = self.mls_store.clone();
        self.mls = Some(MlsClient::new(self.id(), &self.seed, store).expect("MLS client"));
    }

    /// `POST /api/v1/auth/reissue` with the current token (§1.4); on 200 a
    /// string `device_jwt` replaces it.
    pub async fn reissue(&mut self) -> reqwest::Response {
        let resp = self
            .authed(self.http.post(format!("{}/api/v1/auth/reissue", self.base)))
            .send()
            .await
            .expect("reissue request");
        let (resp, json) = buffered(resp).await;
        if resp.status() == reqwest::StatusCode::OK
            && let Some(jwt) = json["device_jwt"].as_str()
        {
            self.jwt = Some(jwt.to_owned());
        }
        resp
    }

    /// The JWT's payload claims (§1.2: base64url, padding optional).
    pub fn jwt_claims(&self) -> Value {
        use base64::Engine;
        let jwt = self.jwt.as_deref().expect("no device JWT");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3, "a device JWT has three segments");
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1].trim_end_matches('='))
            .expect("JWT payload is base64url");
        serde_json::from_slice(&payload).expect("JWT payload is JSON")
    }

    // ---- authenticated REST ----

    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let req = req
            .header("User-Agent", USER_AGENT)
            .header("Accept", "application/json");
        match &self.jwt {
            Some(jwt) => req.bearer_auth(jwt),
            None => req,
        }
    }

    /// GET `path` (e.g. `/api/v1/rooms`) with the device JWT.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .authed(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .expect("GET request");
        status_json(resp).await
    }

    /// POST `path` with a JSON body and the device JWT.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .authed(self.http.post(format!("{}{path}", self.base)))
            .json(&body)
            .send()
            .await
            .expect("POST request");
        status_json(resp).await
    }

    /// PUT `path` with a JSON body and the device JWT.
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .authed(self.http.put(format!("{}{path}", self.base)))
            .json(&body)
            .send()
            .await
            .expect("PUT request");
        status_json(resp).await
    }

    // ---- KeyPackages (§5) ----

    /// Publish `n` fresh KeyPackages, one POST each (§5.1); the statuses.
    pub async fn publish_key_packages(&mut self, n: usize) -> Vec<u16> {
        let mut statuses = Vec::with_capacity(n);
        for _ in 0..n {
            let kp = self.mls().key_package().expect("KeyPackage");
            let (status, _) = self
                .post(
                    "/api/v1/mls/key-packages",
                    json!({"key_package": hex::encode(kp)}),
                )
                .await;
            statuses.push(status);
        }
        statuses
    }

    // ---- WebSocket (§4) ----

    /// The WebSocket URL for this agent's token (§4.1).
    pub fn ws_url(&self) -> String {
        let base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.clone()
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", self.jwt.as_deref().unwrap_or(""))
            .append_pair("device_id", self.id())
            .append_pair("client_version", CLIENT_VERSION)
            .finish();
        format!("{base}/api/v1/ws?{query}")
    }

    /// Open the socket. A task answers every `{"event":"ping"}` with
    /// `{"event":"pong"}` and hands every other frame to the test. On a
    /// refused upgrade the error is the HTTP status alone (e.g. `"403"`,
    /// so `err.parse::<u16>()` reads it); other failures describe the error.
    pub async fn connect(&mut self) -> Result<(), String> {
        self.disconnect().await;
        let mut request = self
            .ws_url()
            .into_client_request()
            .map_err(|e| e.to_string())?;
        let headers = request.headers_mut();
        headers.insert("User-Agent", GENERIC_USER_AGENT.parse().expect("header"));
        headers.insert("Accept", "*/*".parse().expect("header"));
        let (socket, _response) = match tokio_tungstenite::connect_async(request).await {
            Ok(ok) => ok,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                return Err(resp.status().as_u16().to_string());
            }
            Err(e) => return Err(e.to_string()),
        };
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let (in_tx, in_rx) = mpsc::unbounded_channel::<Event>();
        let pongs = self.pongs.clone();
        let bad_frames = self.bad_frames.clone();
        let task = tokio::spawn(async move {
            let (mut sink, mut stream) = socket.split();
            loop {
                tokio::select! {
                    outgoing = out_rx.recv() => match outgoing {
                        Some(message) => {
                            let closing = matches!(message, Message::Close(_));
                            if sink.send(message).await.is_err() {
                                let _ = in_tx.send(Event::Closed(None));
                                return;
                            }
                            if closing {
                                // Wait (briefly) for the server's close answer.
                                let _ = tokio::time::timeout(Duration::from_secs(5), async {
                                    while let Some(Ok(m)) = stream.next().await {
                                        if matches!(m, Message::Close(_)) { break; }
                                    }
                                }).await;
                                return;
                            }
                        }
                        None => {
                            let _ = sink.send(Message::Close(None)).await;
                            return;
                        }
                    },
                    incoming = stream.next() => match incoming {
                        Some(Ok(Message::Text(text))) => {
                            match serde_json::from_str::<Value>(text.as_str()) {
                                Ok(frame) if frame.is_object() => {
                                    if frame["event"] == "ping" {
                                        let pong = json!({"event": "pong"}).to_string();
                                        if sink.send(Message::text(pong)).await.is_ok() {
                                            pongs.fetch_add(1, Ordering::SeqCst);
                                        }
                                    } else if in_tx.send(Event::Frame(frame)).is_err() {
                                        return;
                                    }
                                }
                                _ => { bad_frames.fetch_add(1, Ordering::SeqCst); }
                            }
                        }
                        Some(Ok(Message::Binary(_))) => { bad_frames.fetch_add(1, Ordering::SeqCst); }
                        Some(Ok(Message::Close(frame))) => {
                            let code = frame.map(|f| u16::from(f.code));
                            let _ = in_tx.send(Event::Closed(Some(code.unwrap_or(1005))));
                            return;
                        }
                        Some(Ok(_)) => {} // protocol pings/pongs: tungstenite answers them
                        Some(Err(_)) | None => {
                            let _ = in_tx.send(Event::Closed(None));
                            return;
                        }
                    },
                }
            }
        });
        self.outbound = Some(out_tx);
        self.inbound = Some(in_rx);
        self.socket_task = Some(task);
        self.backlog.clear();
        self.closed = None;
        Ok(())
    }

    /// Send one JSON frame as a text frame.
    pub fn send_frame(&self, frame: Value) {
        self.outbound
            .as_ref()
            .expect("the agent is not connected")
            .send(Message::text(frame.to_string()))
            .expect("the socket task has ended");
    }

    /// Receive the next frame from the socket (backlog first); `None` on
    /// timeout or once the socket has closed.
    async fn recv(&mut self, deadline: tokio::time::Instant) -> Option<Value> {
        if let Some(frame) = self.backlog.pop_front() {
            return Some(frame);
        }
        let inbound = self.inbound.as_mut()?;
        match tokio::time::timeout_at(deadline, inbound.recv()).await {
            Ok(Some(Event::Frame(frame))) => Some(frame),
            Ok(Some(Event::Closed(code))) => {
                self.closed = Some(code);
                self.inbound = None;
                None
            }
            Ok(None) => {
                self.inbound = None;
                None
            }
            Err(_) => None,
        }
    }

    /// The next frame whose `event` is `event`, waiting at most `timeout`.
    /// Frames of other events read meanwhile are kept, in order, for later
    /// calls (see [`TestAgent::discard_frames`]).
    pub async fn next_frame(&mut self, event: &str, timeout: Duration) -> Option<Value> {
        if let Some(i) = self.backlog.iter().position(|f| f["event"] == event) {
            return self.backlog.remove(i);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        let mut skipped = Vec::new();
        let found = loop {
            let Some(frame) = self.recv_fresh(deadline).await else {
                break None;
            };
            if frame["event"] == event {
                break Some(frame);
            }
            skipped.push(frame);
        };
        self.backlog.extend(skipped);
        found
    }

    async fn recv_fresh(&mut self, deadline: tokio::time::Instant) -> Option<Value> {
        let kept = std::mem::take(&mut self.backlog);
        let frame = self.recv(deadline).await;
        self.backlog = kept;
        frame
    }

    /// Forget frames read but not yet asked for.
    pub fn discard_frames(&mut self) {
        self.backlog.clear();
    }

    /// The close code when the server closes the socket (`1005` for a close
    /// frame without a code), waiting at most `timeout`. `None` on timeout,
    /// or when the connection dropped without a close frame.
    pub async fn close_reason(&mut self, timeout: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.closed.is_none() {
            match self.recv_fresh(deadline).await {
                Some(frame) => self.backlog.push_back(frame),
                None => break,
            }
        }
        self.closed.flatten()
    }

    /// Close the socket (1000) and wait for the task to end.
    pub async fn disconnect(&mut self) {
        if let Some(out) = self.outbound.take() {
            let _ = out.send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            })));
        }
        if let Some(task) = self.socket_task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        self.inbound = None;
    }

    // ---- MLS traffic (§6, §7) ----

    /// Pull the delivery queue as the client does (§6.2): sort Welcome <
    /// commit < application < other, then by `created_at`; join Welcomes
    /// (and publish one KeyPackage for each one joined), apply commits,
    /// decrypt applications (dedup by `client_message_id`, else
    /// `message_id`; own echoes skipped); ack every row with a `queue_id`
    /// in one call. Returns the decrypted application messages.
    pub async fn pull(&mut self) -> Vec<Inbound> {
        match self.try_pull().await {
            Ok(messages) => messages,
            Err((status, body)) => panic!("delivery pull failed: {status} {body}"),
        }
    }

    /// [`TestAgent::pull`], with a refused pull or ack as `Err((status, body))`
    /// (nothing is acked then, as with the client).
    pub async fn try_pull(&mut self) -> Result<Vec<Inbound>, (u16, Value)> {
        let path = format!("/api/v1/mls/delivery?device_id={}", self.id());
        let (status, body) = self.get(&path).await;
        if status != 200 {
            return Err((status, body));
        }
        let mut rows: Vec<Value> = match body.get("messages") {
            Some(Value::Array(rows)) => rows.clone(),
            _ => Vec::new(),
        };
        rows.sort_by(|a, b| {
            (row_rank(a), a["created_at"].as_str().unwrap_or(""))
                .cmp(&(row_rank(b), b["created_at"].as_str().unwrap_or("")))
        });
        let mut queue_ids = Vec::new();
        let mut out = Vec::new();
        let mut joined = 0;
        for row in &rows {
            let Some(queue_id) = row["queue_id"].as_str() else {
                continue;
            };
            queue_ids.push(queue_id.to_owned());
            if row["sender_device_id"].as_str() == Some(self.id()) {
                continue;
            }
            match row["message_type"].as_str() {
                Some("welcome") if self.join_welcome(row) => joined += 1,
                Some("commit") if self.first_sight(row) => {
                    self.apply_commit(row);
                }
                Some("application") => {
                    if let Some(msg) = self.decrypt(row, "queue") {
                        out.push(msg);
                    }
                }
                _ => {}
            }
        }
        if !queue_ids.is_empty() {
            let (status, body) = self
                .post(
                    "/api/v1/mls/delivery/ack",
                    json!({"queue_ids": queue_ids, "device_id": self.id()}),
                )
                .await;
            if !(200..300).contains(&status) {
                return Err((status, body));
            }
        }
        if joined > 0 {
            // The client replaces each KeyPackage a Welcome consumed (§5.1).
            self.publish_key_packages(joined).await;
        }
        Ok(out)
    }

    /// Join a Welcome row (or frame); records the conversation key. True on success.
    fn join_welcome(&mut self, row: &Value) -> bool {
        let Some(payload) = row["payload"].as_str().and_then(|p| hex::decode(p).ok()) else {
            return false;
        };
        let key = [
            "a2a_channel_id",
            "room_id",
            "conversation_group_id",
            "conversation_id",
        ]
        .iter()
        .find_map(|k| row[*k].as_str().filter(|s| !s.is_empty()))
        .map(str::to_owned);
        let Some(key) = key else {
            return false; // §7.4: a Welcome without routing is acked and dropped
        };
        match self.mls().join(&payload) {
            Ok((group_id, _epoch)) => {
                self.conversations.insert(group_id, key);
                true
            }
            Err(_) => false,
        }
    }

    fn apply_commit(&mut self, row: &Value) -> Option<u64> {
        let group_id = row["group_id"].as_str()?;
        let payload = hex::decode(row["payload"].as_str()?).ok()?;
        match self.mls().process(group_id, &payload) {
            Ok(Received::Commit { epoch }) => Some(epoch),
            _ => None,
        }
    }

    /// True the first time a row's dedup key is seen (§6.2, §7.2).
    fn first_sight(&mut self, row: &Value) -> bool {
        let key = row["client_message_id"]
            .as_str()
            .filter(|s| !s.is_empty())
            .or_else(|| row["message_id"].as_str());
        match key {
            Some(key) => self.seen.insert(key.to_owned()),
            None => true,
        }
    }

    /// Decrypt an application row or live frame, unless it is a duplicate or our own echo.
    fn decrypt(&mut self, row: &Value, via: &'static str) -> Option<Inbound> {
        if row["sender_device_id"].as_str() == Some(self.id()) || !self.first_sight(row) {
            return None;
        }
        let group_id = row["group_id"].as_str()?.to_owned();
        let payload = hex::decode(row["payload"].as_str()?).ok()?;
        let Ok(Received::Application { plaintext, .. }) = self.mls().process(&group_id, &payload)
        else {
            return None;
        };
        let one_to_one =
            row["room_id"].as_str().is_none() && row["a2a_channel_id"].as_str().is_none();
        Some(Inbound {
            message_id: row["message_id"].as_str().unwrap_or("").to_owned(),
            group_id,
            text: plaintext_text(&plaintext, one_to_one),
            sender_device_id: row["sender_device_id"].as_str().unwrap_or("").to_owned(),
            via,
            room_id: row["room_id"].as_str().map(str::to_owned),
        })
    }

    /// Wait for a live `message_mls` frame that decrypts to a new message
    /// (same dedup as [`TestAgent::pull`]), at most `timeout` in all.
    pub async fn live_message(&mut self, timeout: Duration) -> Option<Inbound> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_frame("message_mls", left).await?;
            let data = frame.get("data").cloned().unwrap_or(Value::Null);
            if let Some(msg) = self.decrypt(&data, "live") {
                return Some(msg);
            }
        }
    }

    /// Wait for a live `mls_commit` frame and apply it; the new epoch.
    pub async fn live_commit(&mut self, timeout: Duration) -> Option<u64> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_frame("mls_commit", left).await?;
            let data = frame.get("data").cloned().unwrap_or(Value::Null);
            if data["sender_device_id"].as_str() == Some(self.id()) || !self.first_sight(&data) {
                continue;
            }
            if let Some(epoch) = self.apply_commit(&data) {
                return Some(epoch);
            }
        }
    }

    /// The application envelope of §4.3 for `text` in `group_id`, encrypted now.
    pub fn text_envelope(&self, group_id: &str, conversation_id: &str, text: &str) -> Value {
        let (ciphertext, epoch) = self
            .mls()
            .encrypt(group_id, text.as_bytes())
            .expect("encrypt");
        json!({
            "conversation_id": conversation_id,
            "group_id": group_id,
            "epoch": epoch,
            "payload": hex::encode(ciphertext),
            "message_type": "text",
            "topic_id": null,
            "client_message_id": null,
            "parent_span_id": null,
            "priority": "normal",
            "metadata": null,
        })
    }

    /// Encrypt `text` and send it as `message_mls` with the full §4.3
    /// envelope (raw UTF-8 text, `message_type: "text"`).
    pub async fn send_text(&mut self, group_id: &str, conversation_id: &str, text: &str) {
        let envelope = self.text_envelope(group_id, conversation_id, text);
        self.send_frame(json!({"event": "message_mls", "data": envelope}));
    }

    /// A reply in a joined 1:1 group under the conversation key its Welcome named.
    pub async fn reply(&mut self, group_id: &str, text: &str) {
        let conversation = self
            .conversations
            .get(group_id)
            .cloned()
            .unwrap_or_else(|| group_id.to_owned());
        self.send_text(group_id, &conversation, text).await;
    }

    /// Encrypt `text` (raw UTF-8, §7.2) and send it as `room_message_mls`
    /// into a joined room group (§8.1): the envelope plus `room_id`, with
    /// the room as `conversation_id`.
    pub fn send_room_text(&self, group_id: &str, room_id: &str, text: &str) {
        let mut envelope = self.text_envelope(group_id, room_id, text);
        envelope["room_id"] = room_id.into();
        self.send_frame(json!({"event": "room_message_mls", "data": envelope}));
    }

    /// The room group this agent joined for `room_id` (from its Welcome).
    pub fn room_group(&self, room_id: &str) -> Option<String> {
        self.conversations
            .iter()
            .find(|(_, k)| k.as_str() == room_id)
            .map(|(g, _)| g.clone())
    }

    /// Wait for a live `room_message_mls` frame that decrypts to a new
    /// message (same dedup as [`TestAgent::pull`]).
    pub async fn live_room_message(&mut self, timeout: Duration) -> Option<Inbound> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_frame("room_message_mls", left).await?;
            let data = frame.get("data").cloned().unwrap_or(Value::Null);
            if let Some(msg) = self.decrypt(&data, "live") {
                return Some(msg);
            }
        }
    }

    /// Claim one KeyPackage of `device` through the batch endpoint (§5.3).
    pub async fn claim_key_package(&self, device: &str) -> Option<Vec<u8>> {
        let (status, v) = self
            .get(&format!(
                "/api/v1/mls/key-packages/batch?device_ids={device}"
            ))
            .await;
        if status != 200 {
            return None;
        }
        hex::decode(v[device].as_str()?).ok()
    }

    /// Found an A2A channel's group (after `init`) with `peer` added from
    /// its KeyPackage: the epoch-1 commit naming the peer, then one Welcome
    /// addressed by hub id only, as A2A creators do (§7.3, §7.4, §8.2).
    pub fn found_a2a(
        &mut self,
        channel: &str,
        group: &str,
        kp: &[u8],
        peer_device: &str,
        peer_hub_id: &str,
    ) {
        let f = self
            .mls()
            .found_group(group, &[kp.to_vec()])
            .expect("found the A2A group");
        self.conversations
            .insert(group.to_owned(), channel.to_owned());
        self.send_frame(json!({"event": "mls_commit", "data": {
            "group_id": group, "epoch": f.epoch, "payload": hex::encode(&f.commit),
            "member_device_ids": [peer_device], "a2a_channel_id": channel,
        }}));
        self.send_frame(json!({"event": "mls_welcome", "data": {
            "group_id": group, "payload": hex::encode(&f.welcome),
            "target_hub_id": peer_hub_id, "a2a_channel_id": channel,
        }}));
    }

    /// Encrypt `text` into an A2A channel's group as `a2a_message_mls`.
    pub fn send_a2a(&self, group: &str, channel: &str, text: &str) {
        let mut envelope = self.text_envelope(group, channel, text);
        envelope["a2a_channel_id"] = channel.into();
        self.send_frame(json!({"event": "a2a_message_mls", "data": envelope}));
    }

    /// Send `mls_sync` for a group (top-level fields, no `data`, §4.3).
    pub fn send_sync(&self, group_id: &str, last_epoch: Option<u64>) {
        self.send_frame(
            json!({"event": "mls_sync", "group_id": group_id, "last_epoch": last_epoch}),
        );
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        if let Some(task) = self.socket_task.take() {
            task.abort();
        }
    }
}

/// §2.2 fingerprint of a 32-byte identity public key.
pub fn fingerprint_of(public_key: &[u8; 32]) -> String {
    let digest = Blake2b::<U8>::digest(public_key);
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// §2.3: tag ‖ 16 UUID bytes ‖ big-endian `signed_at`.
pub fn activation_message(device_id: &str, signed_at: u64) -> [u8; 47] {
    let uuid = hex::decode(device_id.replace('-', "")).expect("device id is a UUID");
    assert_eq!(uuid.len(), 16, "device id is a UUID");
    let mut message = [0u8; 47];
    message[..23].copy_from_slice(ACTIVATION_TAG);
    message[23..39].copy_from_slice(&uuid);
    message[39..].copy_from_slice(&signed_at.to_be_bytes());
    message
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// §7.2: how the agent reads a plaintext. In a 1:1, a JSON object with a
/// `type` (or `attachment`) key is replaced by its `text` field; anything
/// else, and all room and A2A traffic, is taken verbatim.
pub fn plaintext_text(plaintext: &[u8], one_to_one: bool) -> String {
    let raw = String::from_utf8_lossy(plaintext).into_owned();
    if !one_to_one {
        return raw;
    }
    match serde_json::from_str::<Value>(&raw) {
        Ok(Value::Object(obj)) if obj.contains_key("type") || obj.contains_key("attachment") => obj
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        _ => raw,
    }
}

/// The client's queue order (§6.2): Welcome, commit, application, other.
fn row_rank(row: &Value) -> u8 {
    match row["message_type"].as_str() {
        Some("welcome") => 0,
        Some("commit") => 1,
        Some("application") => 2,
        _ => 3,
    }
}

/// Status and body as JSON (an empty body reads as `{}`, non-JSON as a string).
async fn status_json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap_or_default();
    (status, body_json(&bytes))
}

fn body_json(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return json!({});
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Read a response's body as JSON and hand back an equivalent response
/// (status, headers, the same body) for the caller to inspect.
async fn buffered(resp: reqwest::Response) -> (reqwest::Response, Value) {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap_or_default();
    let json = body_json(&bytes);
    let mut rebuilt = http::Response::new(bytes);
    *rebuilt.status_mut() = status;
    *rebuilt.headers_mut() = headers;
    (reqwest::Response::from(rebuilt), json)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: [u8; 32] = [1; 32];
    const EPHEMERAL: [u8; 32] = [2; 32];
    const DEVICE: &str = "00112233-4455-6677-8899-aabbccddeeff";

    fn agent() -> TestAgent {
        TestAgent::new("http://127.0.0.1:9/", SEED, EPHEMERAL)
    }

    #[test]
    fn worked_example_keys_and_proofs() {
        let a = agent();
        assert_eq!(
            a.identity_public_key_hex(),
            "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
        );
        assert_eq!(a.fingerprint(), "89:6c:70:17:04:cf:48:4e");
        assert_eq!(
            a.proof_of_possession_hex(),
            "141844f27d26126461f359e91d473fc9e550f8e0a7982dd66869faefaed84812322e99eb20a2cb774e93735f1ab0b0c6d78c4d42f456e2ff4fcb15bd5183b80a"
        );
        assert_eq!(
            a.ephemeral_public_key_hex(),
            "ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d344745ba05870e587d59"
        );
    }

    #[test]
    fn worked_example_activation() {
        let message = activation_message(DEVICE, 1_700_000_000);
        assert_eq!(
            hex::encode(message),
            concat!(
                "6167656e747661756c743a61637469766174653a76313a",
                "00112233445566778899aabbccddeeff",
                "000000006553f100"
            )
        );
        assert_eq!(
            agent().activation_signature_hex(DEVICE, 1_700_000_000),
            "5a392e583a1e4e0aee1fbd20a6ba01ed07e93dbf74501726f6739e5db18d4980015e8d6217f06d8c230434eabde907ee28919b3a00a033617586aa3657e0340b"
        );
    }

    #[test]
    fn worked_example_enrolment_body() {
        let a = agent();
        assert_eq!(
            a.enroll_body("INVITE", Some("<runtime>")),
            json!({"invite_token": "INVITE",
                "identity_public_key": "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
                "ephemeral_public_key": "ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d344745ba05870e587d59",
                "proof_of_possession": "141844f27d26126461f359e91d473fc9e550f8e0a7982dd66869faefaed84812322e99eb20a2cb774e93735f1ab0b0c6d78c4d42f456e2ff4fcb15bd5183b80a",
                "activation_pop": true, "platform": "<runtime>"})
        );
        assert!(a.enroll_body("INVITE", None).get("platform").is_none());
    }

    #[test]
    fn websocket_url_and_plaintext_rules() {
        let mut a = agent();
        a.device_id = Some(DEVICE.to_owned());
        a.jwt = Some("a.b+c/=.d".to_owned());
        assert_eq!(
            a.ws_url(),
            format!(
                "ws://127.0.0.1:9/api/v1/ws?token=a.b%2Bc%2F%3D.d&device_id={DEVICE}&client_version=holdfast-test-agent%40{}",
                "0.1"
            )
        );
        assert_eq!(
            plaintext_text(br#"{"type":"text","text":"hi"}"#, true),
            "hi"
        );
        assert_eq!(
            plaintext_text(br#"{"type":"text","text":"hi"}"#, false),
            r#"{"type":"text","text":"hi"}"#
        );
        assert_eq!(plaintext_text(br#"{"type":"text"}"#, true), "");
        assert_eq!(plaintext_text(b"[1,2]", true), "[1,2]");
        assert_eq!(plaintext_text(b"plain", true), "plain");
        let mut rows = [
            json!({"message_type": "application", "created_at": "2026-01-01T00:00:01Z"}),
            json!({"message_type": "x", "created_at": "2026-01-01T00:00:00Z"}),
            json!({"message_type": "commit", "created_at": "2026-01-01T00:00:02Z"}),
            json!({"message_type": "welcome", "created_at": "2026-01-01T00:00:03Z"}),
            json!({"message_type": "application", "created_at": "2026-01-01T00:00:00Z"}),
        ];
        rows.sort_by_key(|r| (row_rank(r), r["created_at"].as_str().unwrap().to_owned()));
        let order: Vec<&str> = rows
            .iter()
            .map(|r| r["message_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            order,
            ["welcome", "commit", "application", "application", "x"]
        );
        assert_eq!(rows[2]["created_at"], "2026-01-01T00:00:00Z");
    }

    /// The agent's MLS half against an owner-side client, without a hub:
    /// a Welcome row joins, an application row decrypts once, echoes and
    /// duplicates are skipped, and the reply decrypts on the owner's side.
    #[test]
    fn queue_rows_join_decrypt_and_dedup() {
        use holdfast_core::hub::mls::MlsClient;
        const OWNER: &str = "0a0b0c0d-0000-4000-8000-000000000001";
        const GROUP: &str = "5e1f3c2a-7b8d-4e9f-a012-3456789abcde";
        let mut a = agent();
        a.device_id = Some(DEVICE.to_owned());
        a.restart_mls();
        let owner = MlsClient::new(OWNER, &[7; 32], Arc::new(MemoryStore::default())).unwrap();
        let founded = owner
            .found_group(GROUP, &[a.mls().key_package().unwrap()])
            .unwrap();
        let welcome = json!({"queue_id": "q1", "message_type": "welcome", "group_id": GROUP,
            "sender_device_id": OWNER, "payload": hex::encode(&founded.welcome),
            "conversation_group_id": "c0ffee00-0000-4000-8000-000000000000", "message_id": "m1"});
        assert!(a.join_welcome(&welcome));
        assert_eq!(
            a.conversations[GROUP],
            "c0ffee00-0000-4000-8000-000000000000"
        );
        let (ct, _) = owner
            .encrypt(GROUP, br#"{"type":"text","text":"hello"}"#)
            .unwrap();
        let row = json!({"queue_id": "q2", "message_type": "application", "group_id": GROUP,
            "sender_device_id": OWNER, "payload": hex::encode(&ct), "message_id": "m2",
            "client_message_id": null});
        let got = a.decrypt(&row, "queue").unwrap();
        assert_eq!(
            (got.text.as_str(), got.sender_device_id.as_str(), got.via),
            ("hello", OWNER, "queue")
        );
        assert!(a.decrypt(&row, "live").is_none(), "duplicate message_id");
        let mut echo = row.clone();
        echo["message_id"] = json!("m3");
        echo["sender_device_id"] = json!(DEVICE);
        assert!(a.decrypt(&echo, "queue").is_none(), "own echo");
        let envelope = a.text_envelope(GROUP, "c0ffee00-0000-4000-8000-000000000000", "hi back");
        for key in [
            "topic_id",
            "client_message_id",
            "parent_span_id",
            "metadata",
        ] {
            assert!(envelope[key].is_null(), "{key} is sent as null");
        }
        assert_eq!(envelope["priority"], "normal");
        assert_eq!(envelope["epoch"], 1);
        let reply = hex::decode(envelope["payload"].as_str().unwrap()).unwrap();
        match owner.process(GROUP, &reply).unwrap() {
            Received::Application {
                plaintext, sender, ..
            } => {
                assert_eq!(
                    (plaintext.as_slice(), sender.as_str()),
                    (&b"hi back"[..], DEVICE)
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    /// The socket half against a bare loopback WebSocket peer (no hub): the
    /// upgrade carries the §4.1 query and no `Authorization`, pings are
    /// answered with pongs, other frames reach the test in order, and the
    /// server's close code is reported; a refused upgrade gives its status.
    #[tokio::test]
    async fn socket_pong_frames_close_and_refusal() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut seen = None;
            // tungstenite fixes the callback's error type (an HTTP response).
            #[allow(clippy::result_large_err)]
            let callback = |req: &Request, resp: Response| {
                seen = Some((
                    req.uri().to_string(),
                    req.headers().contains_key("authorization"),
                ));
                Ok(resp)
            };
            let mut ws = tokio_tungstenite::accept_hdr_async(tcp, callback)
                .await
                .unwrap();
            ws.send(Message::text(r#"{"event":"ping"}"#)).await.unwrap();
            let pong = loop {
                match ws.next().await.unwrap().unwrap() {
                    Message::Text(t) => break t.to_string(),
                    _ => continue,
                }
            };
            ws.send(Message::text(
                r#"{"event":"mls_delivery","data":{"count":1}}"#,
            ))
            .await
            .unwrap();
            ws.send(Message::binary(vec![1u8, 2])).await.unwrap();
            ws.send(Message::text(r#"{"event":"hello"}"#))
                .await
                .unwrap();
            ws.close(Some(CloseFrame {
                code: CloseCode::from(4403),
                reason: "revoked".into(),
            }))
            .await
            .unwrap();
            (seen.unwrap(), pong)
        });

        let mut a = TestAgent::new(&base, SEED, EPHEMERAL);
        a.device_id = Some(DEVICE.to_owned());
        a.jwt = Some("h.p.s".to_owned());
        a.connect().await.unwrap();
        let hello = a
            .next_frame("hello", Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(hello, json!({"event": "hello"}));
        let nudge = a.next_frame("mls_delivery", Duration::from_secs(30)).await;
        assert_eq!(nudge.unwrap()["data"]["count"], 1);
        assert_eq!(a.close_reason(Duration::from_secs(30)).await, Some(4403));
        let ((uri, authorization), pong) = server.await.unwrap();
        assert_eq!(
            uri,
            format!(
                "/api/v1/ws?token=h.p.s&device_id={DEVICE}&client_version=holdfast-test-agent%400.1"
            )
        );
        assert!(!authorization);
        assert_eq!(
            serde_json::from_str::<Value>(&pong).unwrap(),
            json!({"event": "pong"})
        );
        assert_eq!(a.pongs.load(Ordering::SeqCst), 1);
        assert_eq!(a.bad_frames.load(Ordering::SeqCst), 1);

        // A refused upgrade: the error is the HTTP status.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut read = 0;
            while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                read += tcp.read(&mut buf[read..]).await.unwrap();
            }
            tcp.write_all(
                b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .await
            .unwrap();
        });
        let mut a = TestAgent::new(&base, SEED, EPHEMERAL);
        a.device_id = Some(DEVICE.to_owned());
        a.jwt = Some("h.p.s".to_owned());
        assert_eq!(a.connect().await, Err("403".to_owned()));
        server.await.unwrap();
    }
}
