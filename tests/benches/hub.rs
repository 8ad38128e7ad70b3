//! The agent hub with MLS on both ends: owner → agent messages per second
//! and their latency (the owner's `POST /agents/{id}/messages`, which
//! encrypts in the daemon's owner device, to the agent's decryption of the
//! live frame), at 1 and at 50 connected agents; then the daemon's RSS with
//! 1,000 enrolled devices of which 200 hold a socket open. Agents are the
//! e2e suite's test agent (the same MLS library, the device protocol), in
//! this process, sharing the machine's 2 cores with the daemon.
//!
//! Run: `cargo bench -p holdfast-tests --bench hub` (`BENCH_SCALE` scales
//! the message counts, default 1).

#[path = "common.rs"]
#[allow(dead_code)]
mod common;
#[path = "../tests/e2e/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../tests/e2e/hub_agent.rs"]
mod hub_agent;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::{load, peak_rss_mib};
use harness::TestDaemon;
use hub_agent::TestAgent;

/// Concurrent owner-side senders.
const SENDERS: usize = 8;

struct Owner {
    d: TestDaemon,
    token: String,
    hub: String,
    /// Enrolments are limited to 5 per source IP per 10 minutes: each agent
    /// comes from its own loopback address.
    next_ip: u32,
}

impl Owner {
    async fn start() -> Self {
        let config = harness::loopback_config();
        let d = TestDaemon::start_with_config(&config).await;
        let token = d.owner_token().await;
        d.init_identity(&token).await;
        let hub = d.hub.clone().expect("the hub runs");
        Self {
            d,
            token,
            hub,
            next_ip: 0,
        }
    }

    fn client(&mut self) -> reqwest::Client {
        self.next_ip += 1;
        let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 1, 0, 0)) + self.next_ip / 4);
        reqwest::Client::builder()
            .no_proxy()
            .local_address(IpAddr::V4(ip))
            .build()
            .unwrap()
    }

    /// Enrol, approve (REST) and activate an agent; KeyPackages if asked.
    async fn agent(&mut self, n: u32, key_packages: usize) -> TestAgent {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&n.to_be_bytes());
        seed[31] = 0xa5;
        let mut agent = TestAgent::new(&self.hub, seed, [9; 32]);
        agent.http = self.client();
        let resp = self
            .d
            .post_auth("/agents/invites", &self.token, json!({}))
            .await;
        assert_eq!(resp.status(), 201);
        let invite: Value = resp.json().await.unwrap();
        let resp = agent
            .enroll(invite["token"].as_str().unwrap(), Some("bench"))
            .await;
        assert_eq!(resp.status(), 201, "enrol {n}");
        let id = agent.device_id.clone().unwrap();
        let resp = self
            .d
            .post_auth(&format!("/agents/{id}/approve"), &self.token, json!({}))
            .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(agent.activate().await.status(), 200);
        if key_packages > 0 {
            agent.publish_key_packages(key_packages).await;
        }
        agent
    }

    async fn send(&self, agent: &str, text: &str) {
        let resp = self
            .d
            .post_auth(
                &format!("/agents/{agent}/messages"),
                &self.token,
                json!({"text": text}),
            )
            .await;
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// `per_agent` messages to each of `n` agents; returns (msgs/s, p50 ms, p99 ms).
async fn throughput(n: u32, per_agent: usize) -> (f64, f64, f64) {
    let mut o = Owner::start().await;
    let mut agents = Vec::new();
    for i in 0..n {
        let mut a = o.agent(i, 2).await;
        a.connect().await.unwrap();
        agents.push(a);
    }
    // Found every group (Welcome through the queue), so the timed part is
    // the steady state: live frames to joined members.
    for a in agents.iter_mut() {
        let id = a.device_id.clone().unwrap();
        o.send(&id, "hello").await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while a.pull().await.is_empty() {
            assert!(Instant::now() < deadline, "the first message never arrived");
            let _ = a
                .next_frame("mls_delivery", Duration::from_millis(200))
                .await;
        }
        a.discard_frames();
    }

    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let total = n as usize * per_agent;
    let ids: Vec<String> = agents
        .iter()
        .map(|a| a.device_id.clone().unwrap())
        .collect();
    let mut readers = Vec::new();
    for mut a in agents {
        let sent = sent.clone();
        readers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_agent);
            while lat.len() < per_agent {
                let m = a
                    .live_message(Duration::from_secs(60))
                    .await
                    .expect("a live message");
                let at = Instant::now();
                if let Some(t0) = sent.lock().unwrap().get(&m.text) {
                    lat.push(at.duration_since(*t0).as_secs_f64() * 1000.0);
                }
            }
            (lat, Instant::now())
        }));
    }
    let start = Instant::now();
    let o = Arc::new(o);
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (o, ids, sent) = (o.clone(), ids.clone(), sent.clone());
        senders.push(tokio::spawn(async move {
            let mut k = s;
            while k < total {
                let agent = &ids[k % ids.len()];
                let text = format!("m{k}");
                sent.lock().unwrap().insert(text.clone(), Instant::now());
                o.send(agent, &text).await;
                k += SENDERS;
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    let mut lat = Vec::new();
    let mut end = start;
    for r in readers {
        let (l, at) = r.await.unwrap();
        lat.extend(l);
        end = end.max(at);
    }
    let secs = end.duration_since(start).as_secs_f64();
    lat.sort_by(f64::total_cmp);
    (
        total as f64 / secs,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
    )
}

/// Daemon RSS (MiB, current and peak) with `enrolled` devices, `connected` online.
async fn footprint(enrolled: u32, connected: usize) -> (u64, u64) {
    let mut o = Owner::start().await;
    let mut agents = Vec::new();
    for i in 0..enrolled {
        let a = o.agent(i, 0).await;
        if agents.len() < connected {
            agents.push(a);
        }
    }
    for a in agents.iter_mut() {
        a.connect().await.unwrap();
    }
    // Let the sockets settle past a ping round.
    tokio::time::sleep(Duration::from_secs(35)).await;
    let list: Value = o.d.get_json("/agents", &o.token).await;
    let online = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["online"] == true)
        .count();
    assert_eq!(online, connected);
    let pid = o.d.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap_or(0)
        / 1024;
    (rss, peak_rss_mib(pid))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let scale: usize = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    println!("load before: {}", load());
    let (rate, p50, p99) = throughput(1, 400 * scale).await;
    println!("1 agent:   {rate:7.0} msgs/s  p50 {p50:6.1} ms  p99 {p99:6.1} ms");
    let (rate, p50, p99) = throughput(50, 20 * scale).await;
    println!("50 agents: {rate:7.0} msgs/s  p50 {p50:6.1} ms  p99 {p99:6.1} ms");
    let (rss, peak) = footprint(1000, 200).await;
    println!("1000 enrolled, 200 connected: RSS {rss} MiB (peak {peak} MiB)");
    println!("load after: {}", load());
}
