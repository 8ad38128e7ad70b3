//! Throughput of each stage a file's bytes pass through on upload, on this
//! machine: FastCDC chunking, BLAKE3, and the AEAD candidates for sealing
//! blocks (RustCrypto AES-256-GCM-SIV and ChaCha20-Poly1305, `ring`'s
//! AES-256-GCM with its VAES/VPCLMULQDQ paths), then the store's seal and
//! open paths in both block formats (1: GCM-SIV, 2: ring GCM). Run:
//! `cargo bench -p holdfast-core --bench block_pipeline` (`BENCH_MIB` sets
//! the data size, default 256).

use std::time::Instant;

use aes_gcm_siv::aead::{Aead, KeyInit};
use holdfast_core::store::BlockId;
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

    let gcm = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &key).unwrap(),
    );
    let t = Instant::now();
    let mut buf = Vec::with_capacity(chunk + 16);
    for c in input.chunks(chunk) {
        buf.clear();
        buf.extend_from_slice(c);
        let nonce = ring::aead::Nonce::assume_unique_for_key([1; 12]);
        let _ = std::hint::black_box(
            gcm.seal_in_place_separate_tag(nonce, ring::aead::Aad::empty(), &mut buf)
                .unwrap(),
        );
    }
    report("AES-256-GCM seal (ring)", input.len(), t);

    let keys = ChunkKeys::new(&key);
    for (format, seal) in [
        (
            "1 GCM-SIV",
            ChunkKeys::seal_v1 as fn(&ChunkKeys, &[u8]) -> (BlockId, Vec<u8>),
        ),
        ("2 GCM", ChunkKeys::seal),
    ] {
        let t = Instant::now();
        let mut sealed = Vec::new();
        for c in input.chunks(chunk) {
            sealed.push(seal(&keys, c));
        }
        report(&format!("store seal, format {format}"), input.len(), t);
        let t = Instant::now();
        for (_, s) in &mut sealed {
            std::hint::black_box(keys.open_in_place(s).unwrap());
        }
        report(&format!("store open, format {format}"), input.len(), t);
    }
    assert!(MAX_CHUNK >= chunk);
}
