//! Integrity of what clients send: the MD5 every ETag is made of, the
//! `Content-MD5` header, and the flexible checksums current SDKs send by
//! default (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256), in a header or as an
//! aws-chunked trailer. Bodies are hashed as they stream; a mismatch is
//! found before the version is recorded, so nothing wrong is kept.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{Stream, StreamExt};
use s3s::crypto::{Checksum as _, Crc32, Crc32c, Crc64Nvme, Md5, Sha1, Sha256};
use s3s::dto::{ChecksumAlgorithm, StreamingBlob};
use s3s::{S3Error, S3ErrorCode, S3Result, s3_error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

pub const ALL: [Algo; 5] = [
    Algo::Crc32,
    Algo::Crc32c,
    Algo::Crc64Nvme,
    Algo::Sha1,
    Algo::Sha256,
];

impl Algo {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "CRC32" => Self::Crc32,
            "CRC32C" => Self::Crc32c,
            "CRC64NVME" => Self::Crc64Nvme,
            "SHA1" => Self::Sha1,
            "SHA256" => Self::Sha256,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    pub fn header(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// CRCs can be combined into a checksum of the whole object.
    pub fn is_crc(self) -> bool {
        matches!(self, Self::Crc32 | Self::Crc32c | Self::Crc64Nvme)
    }

    pub fn from_dto(a: &ChecksumAlgorithm) -> S3Result<Self> {
        Self::parse(a.as_str()).ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "unknown checksum algorithm (CRC32, CRC32C, CRC64NVME, SHA1, SHA256)"
            )
        })
    }
}

enum Hasher {
    Crc32(Crc32),
    Crc32c(Crc32c),
    Crc64Nvme(Crc64Nvme),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl Hasher {
    fn new(a: Algo) -> Self {
        match a {
            Algo::Crc32 => Self::Crc32(Crc32::new()),
            Algo::Crc32c => Self::Crc32c(Crc32c::new()),
            Algo::Crc64Nvme => Self::Crc64Nvme(Crc64Nvme::new()),
            Algo::Sha1 => Self::Sha1(Sha1::new()),
            Algo::Sha256 => Self::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, d: &[u8]) {
        match self {
            Self::Crc32(h) => h.update(d),
            Self::Crc32c(h) => h.update(d),
            Self::Crc64Nvme(h) => h.update(d),
            Self::Sha1(h) => h.update(d),
            Self::Sha256(h) => h.update(d),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Self::Crc32(h) => h.finalize().to_vec(),
            Self::Crc32c(h) => h.finalize().to_vec(),
            Self::Crc64Nvme(h) => h.finalize().to_vec(),
            Self::Sha1(h) => h.finalize().as_ref().to_vec(),
            Self::Sha256(h) => h.finalize().as_ref().to_vec(),
        }
    }
}

/// The checksum a request asks for, and where its expected value is.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub algo: Algo,
    /// Base64 value from a header; `None` when it comes as a trailer (or
    /// the client only named the algorithm and wants us to compute it).
    pub value: Option<String>,
    pub trailer: bool,
}

/// Read which checksum a PUT or UploadPart carries: a `x-amz-checksum-*`
/// header, a trailer announced in `x-amz-trailer`, or an algorithm named
/// without a value (`x-amz-sdk-checksum-algorithm`). More than one is an
/// error, as S3 answers.
pub fn wanted(
    headers: &axum::http::HeaderMap,
    algorithm: Option<&ChecksumAlgorithm>,
) -> S3Result<Option<Wanted>> {
    let mut found: Option<Wanted> = None;
    for a in ALL {
        if let Some(v) = headers.get(a.header()) {
            let v = v
                .to_str()
                .map_err(|_| s3_error!(InvalidArgument, "bad checksum header"))?;
            if found.is_some() {
                return Err(s3_error!(
                    InvalidRequest,
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
                ));
            }
            found = Some(Wanted {
                algo: a,
                value: Some(v.to_owned()),
                trailer: false,
            });
        }
    }
    if found.is_none()
        && let Some(t) = headers.get("x-amz-trailer").and_then(|v| v.to_str().ok())
    {
        let t = t.trim().to_ascii_lowercase();
        let algo = ALL
            .into_iter()
            .find(|a| a.header() == t)
            .ok_or_else(|| s3_error!(InvalidArgument, "unsupported x-amz-trailer"))?;
        found = Some(Wanted {
            algo,
            value: None,
            trailer: true,
        });
    }
    if found.is_none() {
        let named = algorithm.map(Algo::from_dto).transpose()?.or_else(|| {
            headers
                .get("x-amz-sdk-checksum-algorithm")
                .and_then(|v| v.to_str().ok())
                .and_then(Algo::parse)
        });
        found = named.map(|algo| Wanted {
            algo,
            value: None,
            trailer: false,
        });
    }
    Ok(found)
}

/// What hashing a body produced.
pub struct Digests {
    pub md5: [u8; 16],
    pub bytes: u64,
    /// The flexible checksum, base64, if one was wanted.
    pub checksum: Option<(Algo, String)>,
}

impl Digests {
    pub fn md5_hex(&self) -> String {
        hex::encode(self.md5)
    }
}

struct Running {
    md5: Md5,
    sum: Option<(Algo, Hasher)>,
    bytes: u64,
    /// The client's body failed (cut short, bad chunk signature, wrong
    /// payload hash): the S3 error to answer instead of a storage error.
    failed: Option<S3Error>,
}

/// A request body being hashed as it is read.
#[derive(Clone)]
pub struct Tap(Arc<Mutex<Option<Running>>>);

impl Tap {
    pub fn new(algo: Option<Algo>) -> Self {
        Self(Arc::new(Mutex::new(Some(Running {
            md5: Md5::new(),
            sum: algo.map(|a| (a, Hasher::new(a))),
            bytes: 0,
            failed: None,
        }))))
    }

    /// The body as a byte stream that feeds this tap.
    pub fn wrap(
        &self,
        body: StreamingBlob,
    ) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin + 'static {
        let tap = self.0.clone();
        body.map(move |item| {
            let mut guard = tap.lock().unwrap_or_else(|p| p.into_inner());
            let Some(r) = guard.as_mut() else {
                return Err(std::io::Error::other("body read after it ended"));
            };
            match item {
                Ok(bytes) => {
                    r.md5.update(&bytes);
                    if let Some((_, h)) = r.sum.as_mut() {
                        h.update(&bytes);
                    }
                    r.bytes += bytes.len() as u64;
                    Ok(bytes)
                }
                Err(e) => {
                    let s3 = match e.downcast::<S3Error>() {
                        Ok(s3) => *s3,
                        Err(e) => S3Error::with_message(
                            S3ErrorCode::IncompleteBody,
                            format!("the request body ended early or was malformed: {e}"),
                        ),
                    };
                    let msg = s3.message().unwrap_or("bad request body").to_owned();
                    r.failed = Some(s3);
                    Err(std::io::Error::other(msg))
                }
            }
        })
    }

    /// The body's own error, if reading it failed.
    pub fn failure(&self) -> Option<S3Error> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
            .and_then(|r| r.failed.take())
    }

    /// Finish hashing.
    pub fn finish(&self) -> Digests {
        let r = self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .expect("a tap is finished once");
        Digests {
            md5: r.md5.finalize(),
            bytes: r.bytes,
            checksum: r.sum.map(|(a, h)| (a, B64.encode(h.finish()))),
        }
    }
}

/// Check a finished body against what the client said it is: its length,
/// `Content-MD5`, and the wanted checksum (from its header or trailer).
pub fn verify(
    d: &Digests,
    content_length: Option<u64>,
    content_md5: Option<&str>,
    wanted: Option<&Wanted>,
    trailers: Option<&axum::http::HeaderMap>,
) -> S3Result<()> {
    if let Some(n) = content_length
        && n != d.bytes
    {
        return Err(s3_error!(
            IncompleteBody,
            "got {} bytes of the {} announced",
            d.bytes,
            n
        ));
    }
    if let Some(m) = content_md5 {
        let raw = B64
            .decode(m.trim())
            .map_err(|_| s3_error!(InvalidDigest, "Content-MD5 is not base64"))?;
        if raw.len() != 16 {
            return Err(s3_error!(InvalidDigest, "Content-MD5 is not an MD5"));
        }
        if raw != d.md5 {
            return Err(s3_error!(
                BadDigest,
                "the Content-MD5 you specified did not match what we received"
            ));
        }
    }
    if let Some(w) = wanted {
        let expected = match (&w.value, w.trailer) {
            (Some(v), _) => Some(v.clone()),
            (None, true) => Some(
                trailers
                    .and_then(|t| t.get(w.algo.header()))
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        s3_error!(
                            InvalidRequest,
                            "the announced trailing checksum did not arrive"
                        )
                    })?,
            ),
            (None, false) => None,
        };
        if let (Some(exp), Some((_, got))) = (expected, &d.checksum)
            && exp.trim() != got
        {
            return Err(S3Error::with_message(
                S3ErrorCode::BadDigest,
                format!(
                    "the {} you specified did not match the calculated checksum",
                    w.algo.header()
                ),
            ));
        }
    }
    Ok(())
}

/// The checksum of a multipart object from its parts' checksums: for
/// COMPOSITE, the checksum of the concatenated raw part checksums plus
/// `-N`; for FULL_OBJECT (CRCs only), the parts' CRCs combined.
pub fn combine(algo: Algo, full_object: bool, parts: &[(String, u64)]) -> S3Result<String> {
    let raw: Vec<Vec<u8>> = parts
        .iter()
        .map(|(b64, _)| B64.decode(b64))
        .collect::<Result<_, _>>()
        .map_err(|_| s3_error!(InvalidPart, "a part's checksum is not base64"))?;
    if full_object {
        let kind = match algo {
            Algo::Crc32 => crc_fast::CrcAlgorithm::Crc32IsoHdlc,
            Algo::Crc32c => crc_fast::CrcAlgorithm::Crc32Iscsi,
            Algo::Crc64Nvme => crc_fast::CrcAlgorithm::Crc64Nvme,
            _ => {
                return Err(s3_error!(
                    InvalidRequest,
                    "FULL_OBJECT checksums need a CRC algorithm"
                ));
            }
        };
        let mut acc: Option<u64> = None;
        for (r, (_, len)) in raw.iter().zip(parts) {
            let v = match r.len() {
                4 => u64::from(u32::from_be_bytes(r[..].try_into().expect("4 bytes"))),
                8 => u64::from_be_bytes(r[..].try_into().expect("8 bytes")),
                _ => {
                    return Err(s3_error!(
                        InvalidPart,
                        "a part's checksum has the wrong size"
                    ));
                }
            };
            acc = Some(match acc {
                None => v,
                Some(a) => crc_fast::checksum_combine(kind, a, v, *len),
            });
        }
        let v = acc.unwrap_or(0);
        let bytes = if algo == Algo::Crc64Nvme {
            v.to_be_bytes().to_vec()
        } else {
            (v as u32).to_be_bytes().to_vec()
        };
        return Ok(B64.encode(bytes));
    }
    let mut h = Hasher::new(algo);
    for r in &raw {
        h.update(r);
    }
    Ok(format!("{}-{}", B64.encode(h.finish()), parts.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_object_crc_combines_like_one_pass() {
        let (a, b) = (vec![7u8; 5000], vec![9u8; 3000]);
        for algo in [Algo::Crc32, Algo::Crc32c, Algo::Crc64Nvme] {
            let one = |d: &[u8]| {
                let mut h = Hasher::new(algo);
                h.update(d);
                B64.encode(h.finish())
            };
            let whole = one(&[a.clone(), b.clone()].concat());
            let parts = [(one(&a), a.len() as u64), (one(&b), b.len() as u64)];
            assert_eq!(combine(algo, true, &parts).unwrap(), whole, "{algo:?}");
        }
    }

    #[test]
    fn composite_checksum_names_its_part_count() {
        let parts = [("AAAAAA==".to_owned(), 1), ("AAAAAQ==".to_owned(), 1)];
        assert!(combine(Algo::Crc32, false, &parts).unwrap().ends_with("-2"));
    }
}
