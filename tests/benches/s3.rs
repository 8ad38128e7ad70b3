//! The S3 gateway against the REST upload/download path of the same
//! daemon, side by side in one run: 8 concurrent clients PUT then GET
//! 1 MiB and 64 MiB objects (MB/s), and PUT then GET 4 KiB objects
//! (operations/s), with the daemon's peak RSS. The figure is the ratio
//! S3 / REST (aim >= 0.9). S3 goes through the AWS SDK twice: with its
//! default settings (over plain HTTP it signs every payload's SHA-256 and
//! sends a CRC32 checksum, so client and gateway both hash each byte again)
//! and "lean" (UNSIGNED-PAYLOAD, no checksum, as over HTTPS without
//! checksums), which leaves the gateway's own cost (MD5 for the ETag,
//! SigV4, XML). REST goes through reqwest. Clients and daemon share the
//! machine's 2 cores.
//!
//! Run: `cargo bench -p holdfast-tests --bench s3` (`BENCH_SCALE` scales
//! the object counts, default 1).

#[path = "common.rs"]
#[allow(dead_code)]
mod common;
#[path = "../tests/e2e/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::sync::Arc;
use std::time::Instant;

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{
    BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::{Value, json};

use common::{load, mb_s, peak_rss_mib};
use harness::TestDaemon;

const CLIENTS: usize = 8;
const MIB: usize = 1024 * 1024;

/// Incompressible, distinct bytes (xorshift), so nothing dedups.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = vec![0u8; len];
    for chunk in out.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Via {
    Rest,
    S3,
    S3Lean,
}

impl Via {
    fn tag(self) -> &'static str {
        match self {
            Via::Rest => "rest",
            Via::S3 => "s3",
            Via::S3Lean => "lean",
        }
    }
}

struct Bench {
    d: TestDaemon,
    token: String,
    vault: String,
    s3: aws_sdk_s3::Client,
    lean: aws_sdk_s3::Client,
    http: reqwest::Client,
}

impl Bench {
    async fn start() -> Self {
        let config = format!(
            "{}s3:\n  enabled: true\n  bind: 127.0.0.1:0\n",
            harness::loopback_config()
        );
        let d = TestDaemon::start_with_config(&config).await;
        let token = d.owner_token().await;
        d.init_identity(&token).await;
        let v: Value = d
            .post_auth("/vaults", &token, json!({"name": "bench"}))
            .await
            .json()
            .await
            .unwrap();
        let vault = v["id"].as_str().unwrap().to_owned();
        d.put_auth(
            &format!("/vaults/{vault}/s3-alias"),
            &token,
            json!({"alias": "bench"}),
        )
        .await;
        let k: Value = d
            .post_auth("/s3/keys", &token, json!({}))
            .await
            .json()
            .await
            .unwrap();
        let (id, secret) = (
            k["access_key_id"].as_str().unwrap().to_owned(),
            k["secret_access_key"].as_str().unwrap().to_owned(),
        );
        d.put_auth(
            "/s3/permissions",
            &token,
            json!({"key_id": id, "bucket": "*", "ops": ["read", "write", "delete"]}),
        )
        .await;
        let endpoints: Value = serde_json::from_str(
            &std::fs::read_to_string(d.data_dir().join("endpoints.json")).unwrap(),
        )
        .unwrap();
        let endpoint = format!("http://{}", endpoints["s3"].as_str().unwrap());
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(id, secret, None, None, "bench"))
            .force_path_style(true)
            .http_client(aws_smithy_http_client::Builder::new().build_http());
        let lean = conf
            .clone()
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Self {
            d,
            token,
            vault,
            s3: aws_sdk_s3::Client::from_conf(conf.build()),
            lean: aws_sdk_s3::Client::from_conf(lean),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    async fn put(&self, via: Via, key: &str, data: Arc<Vec<u8>>) {
        let body = ByteStream::from((*data).clone());
        match via {
            Via::S3 => {
                self.s3
                    .put_object()
                    .bucket("bench")
                    .key(key)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
            }
            Via::S3Lean => {
                self.lean
                    .put_object()
                    .bucket("bench")
                    .key(key)
                    .body(body)
                    .customize()
                    .disable_payload_signing()
                    .send()
                    .await
                    .unwrap();
            }
            Via::Rest => {
                let r = self
                    .http
                    .post(self.d.url(&format!("/vaults/{}/upload/{key}", self.vault)))
                    .bearer_auth(&self.token)
                    .body((*data).clone())
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.status());
            }
        }
    }

    async fn get(&self, via: Via, key: &str) -> usize {
        let client = match via {
            Via::S3 => &self.s3,
            Via::S3Lean => &self.lean,
            Via::Rest => {
                let url = self
                    .d
                    .url(&format!("/vaults/{}/download/{key}", self.vault));
                let r = self
                    .http
                    .get(url)
                    .bearer_auth(&self.token)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
                return r.bytes().await.unwrap().len();
            }
        };
        let o = client
            .get_object()
            .bucket("bench")
            .key(key)
            .send()
            .await
            .unwrap();
        o.body.collect().await.unwrap().into_bytes().len()
    }
}

/// `per_client` objects of `size` bytes per client: PUT all, then GET all;
/// answers (PUT secs, GET secs, bytes).
async fn run(
    b: &Arc<Bench>,
    via: Via,
    tag: &str,
    size: usize,
    per_client: usize,
) -> (f64, f64, u64) {
    let bodies: Vec<Vec<Arc<Vec<u8>>>> = (0..CLIENTS)
        .map(|c| {
            (0..per_client)
                .map(|i| {
                    let seed = (c * 1_000_003 + i) as u64 + tag.len() as u64 * 7 + via as u64 * 31;
                    Arc::new(noise(seed, size))
                })
                .collect()
        })
        .collect();
    let prefix = format!("{}-{tag}", via.tag());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (c, mine) in bodies.into_iter().enumerate() {
        let (b, prefix) = (b.clone(), prefix.clone());
        tasks.push(tokio::spawn(async move {
            for (i, data) in mine.into_iter().enumerate() {
                b.put(via, &format!("{prefix}/{c}/{i}"), data).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let put = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (b, prefix) = (b.clone(), prefix.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            for i in 0..per_client {
                n += b.get(via, &format!("{prefix}/{c}/{i}")).await;
            }
            n
        }));
    }
    let mut got = 0;
    for t in tasks {
        got += t.await.unwrap();
    }
    let get = started.elapsed().as_secs_f64();
    let bytes = (CLIENTS * per_client * size) as u64;
    assert_eq!(got as u64, bytes);
    (put, get, bytes)
}

fn row(what: &str, unit: &str, sdk: f64, lean: f64, rest: f64) {
    println!(
        "{what:<12} {sdk:>9.0} {unit} {lean:>9.0} {unit} {rest:>9.0} {unit} {:>8.2} {:>9.2}",
        sdk / rest,
        lean / rest
    );
}

#[tokio::main]
async fn main() {
    let scale: usize = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let b = Arc::new(Bench::start().await);
    println!(
        "S3 gateway vs REST, {CLIENTS} concurrent clients (load {})",
        load()
    );
    println!(
        "{:<12} {:>14} {:>14} {:>14} {:>8} {:>9}",
        "", "S3 (SDK)", "S3 (lean)", "REST", "SDK/REST", "lean/REST"
    );
    let mbs = |r: (f64, f64, u64), put: bool| mb_s(r.2, if put { r.0 } else { r.1 });
    for (name, size, per) in [("1 MiB", MIB, 16 * scale), ("64 MiB", 64 * MIB, scale)] {
        let rest = run(&b, Via::Rest, name, size, per).await;
        let s3 = run(&b, Via::S3, name, size, per).await;
        let lean = run(&b, Via::S3Lean, name, size, per).await;
        row(
            &format!("PUT {name}"),
            "MB/s",
            mbs(s3, true),
            mbs(lean, true),
            mbs(rest, true),
        );
        row(
            &format!("GET {name}"),
            "MB/s",
            mbs(s3, false),
            mbs(lean, false),
            mbs(rest, false),
        );
    }
    let per = 250 * scale;
    let rest = run(&b, Via::Rest, "4k", 4096, per).await;
    let s3 = run(&b, Via::S3, "4k", 4096, per).await;
    let lean = run(&b, Via::S3Lean, "4k", 4096, per).await;
    let ops = (CLIENTS * per) as f64;
    row("PUT 4 KiB", "op/s", ops / s3.0, ops / lean.0, ops / rest.0);
    row("GET 4 KiB", "op/s", ops / s3.1, ops / lean.1, ops / rest.1);
    println!(
        "daemon peak RSS: {} MiB (load {})",
        peak_rss_mib(b.d.pid()),
        load()
    );
}
