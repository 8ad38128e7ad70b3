//! Throughput of each stage a file's bytes pass through on upload, on this
//! machine: FastCDC chunking, BLAKE3, and the two AEAD candidates for
//! sealing blocks (AES-256-GCM-SIV, ChaCha20-Poly1305), then the chosen
//! seal path as the store runs it. Run:
//! `cargo bench -p holdfast-core --bench block_pipeline` (`BENCH_MIB` sets
//! the data size, default 256).

use std::time::Instant;

use aes_gcm_siv::aead::{Aead, KeyInit};
use holdfast_core::store::chunking::{MAX_CHUNK, for_each_chunk};
use holdfast_core::store::seal::ChunkKeys;

fn data(len: usize) -> Vec<u8> {
    let mut x = 0x9E3779B97F4A7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn report(name: &str, bytes: usize, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name:<34} {:>8.0} MiB/s",
        bytes as f64 / secs / (1024.0 * 1024.0)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mib: usize = std::env::var("BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let input = data(mib * 1024 * 1024);
    let chunk = 1024 * 1024;
    println!("{mib} MiB of incompressible data, one core");

    let t = Instant::now();
    let mut n = 0;
    for_each_chunk(&input[..], |c| {
        n += c.len();
        async { Ok::<_, std::io::Error>(()) }
    })
    .await
    .unwrap();
    report("FastCDC 256K/1M/4M", n, t);

    let t = Instant::now();
    for c in input.chunks(chunk) {
        std::hint::black_box(blake3::hash(c));
    }
    report("BLAKE3", input.len(), t);

    let key = [7u8; 32];
    let aes = aes_gcm_siv::Aes256GcmSiv::new((&key).into());
    let t = Instant::now();
    for c in input.chunks(chunk) {
        std::hint::black_box(
            aes.encrypt(aes_gcm_siv::Nonce::from_slice(&[1; 12]), c)
                .unwrap(),
        );
    }
    report("AES-256-GCM-SIV seal", input.len(), t);

    let chacha = chacha20poly1305::ChaCha20Poly1305::new((&key).into());
    let t = Instant::now();
    for c in input.chunks(chunk) {
        std::hint::black_box(
            chacha
                .encrypt(chacha20poly1305::Nonce::from_slice(&[1; 12]), c)
                .unwrap(),
        );
    }
    report("ChaCha20-Poly1305 seal", input.len(), t);

    let keys = ChunkKeys::new(&key);
    let t = Instant::now();
    let mut sealed = Vec::new();
    for c in input.chunks(chunk) {
        sealed.push(keys.seal(c));
    }
    report("store seal (nonce MAC+AES+block id)", input.len(), t);
    let t = Instant::now();
    for (_, s) in &sealed {
        std::hint::black_box(keys.open(s).unwrap());
    }
    report("store open", input.len(), t);
    assert!(MAX_CHUNK >= chunk);
}
