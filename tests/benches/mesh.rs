//! The mesh measured in one run, each figure beside what bounds it:
//! - `bare_stream`: the bare libp2p stream of this build (TCP + pnet +
//!   Noise + Yamux from `holdfast_core::mesh::transport::build`, two swarms
//!   in this process on loopback), 1 GiB over one stream and over 4;
//! - `replication_1gib`: two real daemons; B joins a vault holding a 1 GiB
//!   file on A; the clock runs from the join until B lists the file at its
//!   size (B's download is hashed after the clock stops); ratio to the bare
//!   stream and to Syncthing's 175–184 MB/s (DESIGN.md);
//! - `catchup_10k`: A holds 10,000 files of 1–8 KiB in nested folders; a
//!   fresh B joins; the clock runs until B lists all of them; files/s
//!   against Syncthing's 1,069–1,113 files/s;
//! - `mesh_10`: ten daemons in one network, each connected to the nine
//!   others; RSS per node, RSS per connected peer (the creator with 0 peers
//!   against it with 9) and idle CPU over 30 s.
//!
//! Run: `cargo bench -p holdfast-tests --bench mesh -- [NAME...]` (no name
//! runs all four). `BENCH_MIB` sets the large size (default 1024),
//! `BENCH_FILES` the small-file count (default 10000), `BENCH_NODES` the
//! mesh size (default 10), `BENCH_IDLE_SECS` the idle window (default 30).
//! MB is 10^6 bytes, MiB 2^20.

#[path = "common.rs"]
#[allow(dead_code)]
mod common;
#[path = "../tests/e2e/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, identity, pnet::PreSharedKey};
use serde_json::{Value, json};

use common::{load, mb_s, peak_rss_mib};
use harness::TestDaemon;

const BENCH_PROTOCOL: StreamProtocol = StreamProtocol::new("/holdfast-bench/1");

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mib_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / secs / (1024.0 * 1024.0)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; anything else not starting with `-`
    // names a part.
    let names: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |n: &str| names.is_empty() || names.iter().any(|x| x == n);
    let size = env_or("BENCH_MIB", 1024) << 20;
    println!(
        "mesh bench: {} MiB, {} cores, load {}",
        size >> 20,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load()
    );
    let mut bare = None;
    if wants("bare_stream") {
        bare = Some(bare_stream(size).await);
    }
    if wants("replication_1gib") {
        replication(size, bare).await;
    }
    if wants("catchup_10k") {
        catchup(env_or("BENCH_FILES", 10_000)).await;
    }
    if wants("mesh_10") {
        mesh_n(
            env_or("BENCH_NODES", 10) as usize,
            env_or("BENCH_IDLE_SECS", 30),
        )
        .await;
    }
}

// ---------------------------------------------------------------- bare stream

type BenchSwarm = Swarm<libp2p_stream::Behaviour>;

fn bench_swarm(psk: PreSharedKey) -> BenchSwarm {
    let kp = identity::Keypair::generate_ed25519();
    let counters = Arc::new(holdfast_core::mesh::transport::ByteCounters::default());
    let transport = holdfast_core::mesh::transport::build(&kp, psk, counters).unwrap();
    libp2p::SwarmBuilder::with_existing_identity(kp)
        .with_tokio()
        .with_other_transport(move |_| transport)
        .unwrap()
        .with_behaviour(|_| libp2p_stream::Behaviour::new())
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(600)))
        .build()
}

/// Drive a swarm in the background; reports its first listen address and
/// its first connection.
fn drive(
    mut swarm: BenchSwarm,
) -> (
    tokio::sync::mpsc::UnboundedReceiver<Multiaddr>,
    tokio::sync::mpsc::UnboundedReceiver<PeerId>,
) {
    let (addr_tx, addr_rx) = tokio::sync::mpsc::unbounded_channel();
    let (conn_tx, conn_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { address, .. } => {
                    let _ = addr_tx.send(address);
                }
                SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                    let _ = conn_tx.send(peer_id);
                }
                _ => {}
            }
        }
    });
    (addr_rx, conn_rx)
}

/// MB/s over one stream and over four; answers the one-stream figure.
async fn bare_stream(size: u64) -> f64 {
    let psk = PreSharedKey::new([7u8; 32]);
    let mut a = bench_swarm(psk);
    let mut b = bench_swarm(psk);
    let peer_b = *b.local_peer_id();
    b.listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let control_a = a.behaviour().new_control();
    let mut control_b = b.behaviour().new_control();
    let mut incoming = control_b.accept(BENCH_PROTOCOL).unwrap();
    let (mut b_addr, _) = drive(b);
    let addr = b_addr.recv().await.unwrap();
    a.dial(addr.with_p2p(peer_b).unwrap()).unwrap();
    let (_, mut a_conn) = drive(a);
    let conn = tokio::time::timeout(Duration::from_secs(30), a_conn.recv()).await;
    assert_eq!(
        conn.expect("bare stream: no connection in 30 s"),
        Some(peer_b)
    );

    // The receiver: read every stream to its end, report bytes per stream.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    tokio::spawn(async move {
        while let Some((_, mut stream)) = incoming.next().await {
            let done = done_tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 256 * 1024];
                let mut got = 0u64;
                loop {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    got += n as u64;
                }
                let _ = done.send(got);
            });
        }
    });

    let mut results = Vec::new();
    for streams in [1u64, 4] {
        let per = size / streams;
        let started = Instant::now();
        for s in 0..streams {
            let mut control = control_a.clone();
            tokio::spawn(async move {
                let mut stream = control.open_stream(peer_b, BENCH_PROTOCOL).await.unwrap();
                let mut buf = vec![0u8; 256 * 1024];
                let mut g = Gen(0x9e37_79b9 + s);
                g.fill(&mut buf);
                let mut left = per;
                while left > 0 {
                    let n = left.min(buf.len() as u64) as usize;
                    stream.write_all(&buf[..n]).await.unwrap();
                    left -= n as u64;
                }
                stream.close().await.unwrap();
            });
        }
        let mut total = 0;
        for _ in 0..streams {
            // A stuck transfer fails the part instead of hanging the run.
            total += tokio::time::timeout(Duration::from_secs(300), done_rx.recv())
                .await
                .expect("bare stream: no progress for 300 s")
                .unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(total, per * streams);
        results.push((streams, mb_s(total, secs), mib_s(total, secs)));
    }
    println!("\n== bare_stream: libp2p TCP + pnet + Noise + Yamux, one process, loopback");
    println!("{:<28}{:>10}{:>10}", "", "MB/s", "MiB/s");
    for (streams, mb, mib) in &results {
        println!(
            "{:<28}{mb:>10.0}{mib:>10.0}",
            format!("{} MiB over {streams} stream(s)", size >> 20)
        );
    }
    println!(
        "DESIGN.md ceilings: TCP+Noise+Yamux ~330 MiB/s, with pnet ~185 MiB/s; one pnet stream ~194 MB/s"
    );
    println!(
        "4 streams / 1 stream: {:.2}   load {}",
        results[1].1 / results[0].1,
        load()
    );
    results[0].1
}

// ------------------------------------------------------------------- daemons

/// A daemon with an owner bearer and an unlocked identity.
struct Node {
    d: TestDaemon,
    token: String,
}

impl Node {
    async fn start() -> Self {
        let d = TestDaemon::start().await;
        let token = d.owner_token().await;
        d.init_identity(&token).await;
        Self { d, token }
    }

    async fn get(&self, path: &str) -> Value {
        let r = self.d.get_auth(path, &self.token).await;
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn post_ok(&self, path: &str, body: Value) -> Value {
        let r = self.d.post_auth(path, &self.token, body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn create_network(&self) -> String {
        let n = self
            .post_ok("/networks/create", json!({"name": "Bench"}))
            .await;
        n["id"].as_str().unwrap().to_owned()
    }

    async fn invite(&self, net: &str) -> String {
        self.get(&format!("/networks/{net}/invite")).await["url"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn join_network(&self, url: &str) {
        self.post_ok("/networks", json!({"url": url})).await;
    }

    async fn connected(&self) -> usize {
        self.get("/nodes")
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["connected"] == true)
            .count()
    }

    async fn wait_connected(&self, want: usize) {
        wait_for(&format!("{want} connected nodes"), 120, || async {
            self.connected().await >= want
        })
        .await;
    }

    async fn create_vault(&self, name: &str) -> String {
        let v = self
            .post_ok("/vaults", json!({"name": name, "rf_target": 2}))
            .await;
        v["id"].as_str().unwrap().to_owned()
    }

    async fn share_url(&self, vid: &str) -> String {
        self.get(&format!("/vaults/{vid}/share-url")).await["url"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn join_vault(&self, url: &str) {
        let r = self
            .d
            .post_auth("/vaults/join", &self.token, json!({"url": url}))
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }

    async fn listing(&self, vid: &str) -> Vec<Value> {
        let r = self
            .d
            .get_auth(&format!("/vaults/{vid}/files"), &self.token)
            .await;
        if !r.status().is_success() {
            return Vec::new();
        }
        r.json::<Vec<Value>>().await.unwrap_or_default()
    }

    /// A and B on one network, connected.
    async fn pair() -> (Node, Node) {
        let (a, b) = tokio::join!(Node::start(), Node::start());
        let net = a.create_network().await;
        b.join_network(&a.invite(&net).await).await;
        a.wait_connected(1).await;
        b.wait_connected(1).await;
        (a, b)
    }
}

async fn wait_for<F, Fut>(what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Incompressible bytes, generated piecewise so no GiB sits in memory.
struct Gen(u64);
impl Gen {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            let b = self.0.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
    }
}

/// Upload `len` generated bytes over one raw connection; answers the
/// BLAKE3 hash of what was sent.
fn upload_big(d: &TestDaemon, token: &str, vault: &str, path: &str, len: u64) -> String {
    let mut s = TcpStream::connect(d.addr).unwrap();
    write!(
        s,
        "POST /api/v1/vaults/{vault}/upload{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n",
        d.addr
    )
    .unwrap();
    let mut g = Gen(0x5eed_1234_5678_9abd);
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        g.fill(&mut buf[..n]);
        hasher.update(&buf[..n]);
        s.write_all(&buf[..n]).unwrap();
        left -= n as u64;
    }
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    hasher.finalize().to_hex().to_string()
}

// ---------------------------------------------------------- replication_1gib

async fn replication(size: u64, bare: Option<f64>) {
    let (a, b) = Node::pair().await;
    let vid = a.create_vault("Big").await;
    let up_started = Instant::now();
    let hash = tokio::task::block_in_place(|| upload_big(&a.d, &a.token, &vid, "/big.bin", size));
    let up_secs = up_started.elapsed().as_secs_f64();
    let url = a.share_url(&vid).await;
    let rss_before = (peak_rss_mib(a.d.pid()), peak_rss_mib(b.d.pid()));

    let started = Instant::now();
    b.join_vault(&url).await;
    wait_for("the 1 GiB file on B", 600, || async {
        b.listing(&vid).await.iter().any(|f| {
            f["path"].as_str().is_some_and(|p| p.ends_with("big.bin")) && f["size"] == size
        })
    })
    .await;
    let secs = started.elapsed().as_secs_f64();
    let rss_after = (peak_rss_mib(a.d.pid()), peak_rss_mib(b.d.pid()));

    // Verify after the clock: B's download hashes to what A was sent.
    let dl_started = Instant::now();
    let mut resp =
        b.d.get_auth(&format!("/vaults/{vid}/download/big.bin"), &b.token)
            .await;
    assert_eq!(resp.status(), 200);
    let mut hasher = blake3::Hasher::new();
    let mut got = 0u64;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        got += chunk.len() as u64;
        hasher.update(&chunk);
    }
    let dl_secs = dl_started.elapsed().as_secs_f64();
    assert_eq!(got, size, "B's download has the wrong size");
    assert_eq!(
        hasher.finalize().to_hex().to_string(),
        hash,
        "B's download differs from what A was sent"
    );

    let rate = mb_s(size, secs);
    println!(
        "\n== replication_1gib: two daemons, join -> B lists the {} MiB file",
        size >> 20
    );
    println!(
        "upload on A (before the clock)  {:>8.0} MB/s",
        mb_s(size, up_secs)
    );
    println!(
        "replication A -> B              {rate:>8.0} MB/s  ({:.1} s, {:.0} MiB/s)",
        secs,
        mib_s(size, secs)
    );
    match bare {
        Some(bare) => println!(
            "  ratio to the bare stream      {:>8.2}   (bare 1 stream {bare:.0} MB/s; aim >= 0.8)",
            rate / bare
        ),
        None => {
            println!("  ratio to the bare stream          n/a (run bare_stream in the same run)")
        }
    }
    println!(
        "  ratio to Syncthing 175-184    {:>8.2}   (against 180 MB/s)",
        rate / 180.0
    );
    println!(
        "download on B, hashed (after)   {:>8.0} MB/s, BLAKE3 matches",
        mb_s(size, dl_secs)
    );
    println!(
        "peak RSS A / B                  {} / {} MiB before the join, {} / {} MiB after (Syncthing 92-129)",
        rss_before.0, rss_before.1, rss_after.0, rss_after.1
    );
    println!("load {}", load());
}

// --------------------------------------------------------------- catchup_10k

async fn catchup(files: u64) {
    let (a, b) = Node::pair().await;
    let vid = a.create_vault("Small").await;
    let fill_started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = Vec::new();
    let mut total_bytes = 0u64;
    for i in 0..files {
        let permit = sem.clone().acquire_owned().await.unwrap();
        // 1-8 KiB, three folder levels.
        let len = 1024 + (i * 2654435761 % (7 * 1024 + 1)) as usize;
        total_bytes += len as u64;
        let body = harness::pseudo_random(len, i + 1);
        let req =
            a.d.http
                .post(a.d.url(&format!(
                    "/vaults/{vid}/upload/d{}/e{}/f{}/file-{i}.bin",
                    i % 10,
                    i % 7,
                    i % 13
                )))
                .bearer_auth(&a.token)
                .body(body)
                .send();
        tasks.push(tokio::spawn(async move {
            let r = req.await.unwrap();
            assert_eq!(r.status(), 200);
            drop(permit);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let fill_secs = fill_started.elapsed().as_secs_f64();
    assert_eq!(a.listing(&vid).await.len() as u64, files);
    let url = a.share_url(&vid).await;

    let started = Instant::now();
    b.join_vault(&url).await;
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(1800);
    while seen < files {
        assert!(
            Instant::now() < deadline,
            "B lists {seen} of {files} files after 30 min"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        seen = b.listing(&vid).await.len() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    let rate = files as f64 / secs;
    // After the clock: a sample of B's files has A's bytes.
    for i in (0..files).step_by((files as usize / 50).max(1)) {
        let len = 1024 + (i * 2654435761 % (7 * 1024 + 1)) as usize;
        let path = format!("d{}/e{}/f{}/file-{i}.bin", i % 10, i % 7, i % 13);
        let r =
            b.d.get_auth(&format!("/vaults/{vid}/download/{path}"), &b.token)
                .await;
        assert_eq!(r.status(), 200, "{path} on B");
        let got = r.bytes().await.unwrap();
        assert!(
            got[..] == harness::pseudo_random(len, i + 1)[..],
            "{path} differs on B"
        );
    }
    println!("\n== catchup_10k: {files} files of 1-8 KiB in nested folders; fresh B joins");
    println!(
        "filling A over REST, 8 in flight  {fill_secs:>8.1} s   ({:.0} files/s, {:.1} MB)",
        files as f64 / fill_secs,
        total_bytes as f64 / 1e6
    );
    println!(
        "catch-up on B                     {secs:>8.1} s   ({rate:.0} files/s; 50 sampled files match A)"
    );
    println!(
        "  ratio to Syncthing 1,069-1,113  {:>8.2}   (against 1,091 files/s)",
        rate / 1091.0
    );
    println!(
        "peak RSS A / B                    {} / {} MiB   load {}",
        peak_rss_mib(a.d.pid()),
        peak_rss_mib(b.d.pid()),
        load()
    );
}

// -------------------------------------------------------------------- mesh_n

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
}

/// utime + stime in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th of the whole line.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

async fn mesh_n(n: usize, idle_secs: u64) {
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let nodes = futures::future::join_all((0..n).map(|_| Node::start())).await;
    let first = &nodes[0];
    let net = first.create_network().await;
    let url = first.invite(&net).await;
    // The creator alone: its swarm runs with 0 peers.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let lone_pid = first.d.pid();
    let lone_rss = rss_kib(lone_pid);
    let fresh_rss: Vec<u64> = nodes[1..].iter().map(|x| rss_kib(x.d.pid())).collect();
    let connect_started = Instant::now();
    futures::future::join_all(nodes[1..].iter().map(|x| x.join_network(&url))).await;
    futures::future::join_all(nodes.iter().map(|x| x.wait_connected(n - 1))).await;
    let connect_secs = connect_started.elapsed().as_secs_f64();
    // Settle (gossip, identify, kad) before the idle window.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pids: Vec<u32> = nodes.iter().map(|x| x.d.pid()).collect();
    let cpu0: Vec<u64> = pids.iter().map(|p| cpu_ticks(*p)).collect();
    let t0 = Instant::now();
    let mut rss_samples: Vec<Vec<u64>> = vec![Vec::new(); n];
    while t0.elapsed() < Duration::from_secs(idle_secs) {
        for (i, p) in pids.iter().enumerate() {
            rss_samples[i].push(rss_kib(*p));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let window = t0.elapsed().as_secs_f64();
    let cpu1: Vec<u64> = pids.iter().map(|p| cpu_ticks(*p)).collect();
    for x in &nodes {
        assert_eq!(x.connected().await, n - 1, "a node lost a peer while idle");
    }
    println!("\n== mesh_{n}: {n} daemons on loopback, one network, full mesh ({n}-1 peers each)");
    println!(
        "all connected {connect_secs:.1} s after the joins; idle window {window:.0} s; load {}",
        load()
    );
    println!(
        "{:<6}{:>14}{:>14}{:>12}",
        "node", "RSS avg MiB", "RSS max MiB", "idle CPU %"
    );
    let mut avgs = Vec::new();
    let mut cpus = Vec::new();
    for i in 0..n {
        let s = &rss_samples[i];
        let avg = s.iter().sum::<u64>() as f64 / s.len() as f64 / 1024.0;
        let max = *s.iter().max().unwrap() as f64 / 1024.0;
        let cpu = (cpu1[i] - cpu0[i]) as f64 / ticks / window * 100.0;
        avgs.push(avg);
        cpus.push(cpu);
        println!("{i:<6}{avg:>14.1}{max:>14.1}{cpu:>12.2}");
    }
    let mean = avgs.iter().sum::<f64>() / n as f64;
    let lone = lone_rss as f64 / 1024.0;
    let fresh = fresh_rss.iter().sum::<u64>() as f64 / fresh_rss.len().max(1) as f64 / 1024.0;
    println!(
        "mean RSS {mean:.1} MiB a node; idle CPU mean {:.2} %, max {:.2} % of one core",
        cpus.iter().sum::<f64>() / n as f64,
        cpus.iter().cloned().fold(0.0, f64::max)
    );
    println!(
        "node 0 (creator): {lone:.1} MiB with its swarm up and 0 peers -> {:.1} MiB with {} peers: {:.2} MiB a peer",
        avgs[0],
        n - 1,
        (avgs[0] - lone) / (n - 1) as f64
    );
    println!(
        "the others: {fresh:.1} MiB before joining (no swarm) -> {:.1} MiB mean with {} peers: {:.2} MiB a peer (swarm start included)",
        avgs[1..].iter().sum::<f64>() / (n - 1) as f64,
        n - 1,
        (avgs[1..].iter().sum::<f64>() / (n - 1) as f64 - fresh) / (n - 1) as f64
    );
    println!("(Syncthing 1.19: peak RSS 92-129 MiB a node, DESIGN.md)");
}
