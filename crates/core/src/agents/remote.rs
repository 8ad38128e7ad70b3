//! Using an instance another device of the mesh hosts: the stream protocol
//! `/holdfast/agents/1` (docs/mesh.md) and the host's checks of the access
//! key. One stream carries one HTTP-like exchange:
//!
//! - the client sends a head frame (`u32` big-endian length, then JSON
//!   [`RequestHead`]: the access key, the host's instance id, method, path
//!   with query, a few headers, the body's length), then the body bytes;
//! - the host answers a head frame ([`ResponseHead`]: status and headers),
//!   then the body as chunks (`u32` length + bytes), ended by an empty
//!   chunk. A stream that ends without the empty chunk was cut off (the
//!   host went away, or the key was reset while it streamed).
//!
//! Everything read is bounded: heads, paths, header counts, bodies, chunks.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use rusqlite::{OptionalExtension, params};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::{AgentStore, AgentsError, Result};
use crate::identity::crypto::{self, Key};
use crate::mesh::services::StreamProtocol;
use crate::time::now_ms;

pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/holdfast/agents/1");
/// Largest request body (attachments are at most 20 MiB).
pub const MAX_BODY: u64 = 25 * 1024 * 1024;
/// Largest head frame.
pub const MAX_HEAD: u32 = 64 * 1024;
/// Longest path with its query.
pub const MAX_PATH: usize = 8 * 1024;
/// Headers carried at most, and their sizes.
pub const MAX_HEADERS: usize = 32;
pub const MAX_HEADER_NAME: usize = 64;
pub const MAX_HEADER_VALUE: usize = 4 * 1024;
/// Largest response chunk.
pub const MAX_CHUNK: u32 = 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestHead {
    /// The access key of the share URL.
    pub key: String,
    /// The instance's id on the host.
    pub instance_id: String,
    pub method: String,
    /// `/api/v1/…` with its query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body_len: u64,
}

impl std::fmt::Display for RequestHead {
    /// For logs: never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.split('?').next().unwrap_or("");
        write!(f, "{} {} ({})", self.method, path, self.instance_id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResponseHead {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

fn bad(m: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, m.into())
}

fn check_headers(headers: &[(String, String)]) -> std::io::Result<()> {
    if headers.len() > MAX_HEADERS {
        return Err(bad("too many headers"));
    }
    for (k, v) in headers {
        let ok_name = !k.is_empty()
            && k.len() <= MAX_HEADER_NAME
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let ok_value = v.len() <= MAX_HEADER_VALUE
            && v.bytes().all(|b| b == b'\t' || (b' '..0x7f).contains(&b));
        if !ok_name || !ok_value {
            return Err(bad("a malformed header"));
        }
    }
    Ok(())
}

impl RequestHead {
    /// The bounds a host holds every request to.
    pub fn check(&self) -> std::io::Result<()> {
        if self.key.is_empty() || self.key.len() > 256 {
            return Err(bad("a malformed access key"));
        }
        if !super::valid_id(&self.instance_id, "ai_") {
            return Err(bad("a malformed instance id"));
        }
        if !matches!(
            self.method.as_str(),
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
        ) {
            return Err(bad("an unsupported method"));
        }
        if self.path.len() > MAX_PATH
            || !self.path.starts_with("/api/v1/")
            || !self.path.bytes().all(|b| (b'!'..0x7f).contains(&b))
        {
            return Err(bad("a malformed path"));
        }
        if self.body_len > MAX_BODY {
            return Err(bad("the request body is too large"));
        }
        check_headers(&self.headers)
    }
}

impl ResponseHead {
    pub fn check(&self) -> std::io::Result<()> {
        if !(100..=599).contains(&self.status) {
            return Err(bad("a malformed status"));
        }
        check_headers(&self.headers)
    }
}

pub async fn write_head<W: AsyncWrite + Unpin, T: Serialize>(
    w: &mut W,
    head: &T,
) -> std::io::Result<()> {
    let json = serde_json::to_vec(head).map_err(std::io::Error::other)?;
    if json.len() > MAX_HEAD as usize {
        return Err(bad("the head is too large"));
    }
    w.write_all(&(json.len() as u32).to_be_bytes()).await?;
    w.write_all(&json).await?;
    w.flush().await
}

pub async fn read_head<R: AsyncRead + Unpin, T: DeserializeOwned>(r: &mut R) -> std::io::Result<T> {
    let mut n = [0u8; 4];
    r.read_exact(&mut n).await?;
    let n = u32::from_be_bytes(n);
    if n > MAX_HEAD {
        return Err(bad("the head is too large"));
    }
    let mut buf = vec![0u8; n as usize];
    r.read_exact(&mut buf).await?;
    serde_json::from_slice(&buf).map_err(|_| bad("the head does not parse"))
}

/// Read exactly `len` body bytes (the caller checked `len`).
pub async fn read_body<R: AsyncRead + Unpin>(r: &mut R, len: u64) -> std::io::Result<Vec<u8>> {
    if len > MAX_BODY {
        return Err(bad("the body is too large"));
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf).await?;
    Ok(buf)
}

/// One response chunk; an empty `data` is the end.
pub async fn write_chunk<W: AsyncWrite + Unpin>(w: &mut W, data: &[u8]) -> std::io::Result<()> {
    for part in data.chunks(MAX_CHUNK as usize) {
        w.write_all(&(part.len() as u32).to_be_bytes()).await?;
        w.write_all(part).await?;
    }
    w.flush().await
}

pub async fn write_end<W: AsyncWrite + Unpin>(w: &mut W) -> std::io::Result<()> {
    w.write_all(&0u32.to_be_bytes()).await?;
    w.flush().await
}

/// The next chunk, or `None` at the end.
pub async fn read_chunk<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut n = [0u8; 4];
    r.read_exact(&mut n).await?;
    let n = u32::from_be_bytes(n);
    if n == 0 {
        return Ok(None);
    }
    if n > MAX_CHUNK {
        return Err(bad("an oversized chunk"));
    }
    let mut buf = vec![0u8; n as usize];
    r.read_exact(&mut buf).await?;
    Ok(Some(buf))
}

/// What the host found for a presented access key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Granted,
    /// The key is not (or no longer) the instance's.
    Refused,
    /// No local instance with that id.
    NoInstance,
}

pub(super) fn access_aad(instance: &str) -> Vec<u8> {
    format!("holdfast/agents/access/{instance}").into_bytes()
}

impl AgentStore {
    /// The sealed access key of local instance `id`: `None` when there is
    /// no such local instance, `Some(None)` before its first share.
    async fn sealed_access_key(&self, id: &str) -> Result<Option<Option<Vec<u8>>>> {
        let row_id = id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT access_key FROM agent_instances WHERE id = ?1 AND remote_peer IS NULL",
                    [row_id],
                    |r| r.get(0),
                )
                .optional()
            })
            .await?)
    }

    /// The access key remote devices present, made on first use.
    pub async fn access_key(&self, seal_key: &Key, id: &str, rotate: bool) -> Result<String> {
        let sealed = self.sealed_access_key(id).await?;
        let Some(sealed) = sealed else {
            return Err(AgentsError::NotFound("no such instance".into()));
        };
        if let (Some(s), false) = (&sealed, rotate)
            && let Some(k) = crypto::open(seal_key, s, &access_aad(id))
        {
            return Ok(String::from_utf8_lossy(&k).into_owned());
        }
        let key = hex::encode(crypto::random_bytes::<32>());
        let sealed = crypto::seal(seal_key, key.as_bytes(), &access_aad(id));
        let row_id = id.to_owned();
        self.catalog
            .write(move |c| {
                c.execute(
                    "UPDATE agent_instances SET access_key = ?2, updated_ms = ?3 WHERE id = ?1",
                    params![row_id, sealed, now_ms()],
                )
            })
            .await?;
        Ok(key)
    }

    /// Check `presented` against the access key of local instance `id`, in
    /// constant time. Remote instances are never reachable this way.
    pub async fn check_access(&self, seal_key: &Key, id: &str, presented: &str) -> Result<Access> {
        let sealed = self.sealed_access_key(id).await?;
        let Some(sealed) = sealed else {
            return Ok(Access::NoInstance);
        };
        let Some(sealed) = sealed else {
            return Ok(Access::Refused);
        };
        let key = crypto::open(seal_key, &sealed, &access_aad(id)).ok_or(AgentsError::Locked)?;
        let same: bool = key.as_slice().ct_eq(presented.as_bytes()).into();
        Ok(if same {
            Access::Granted
        } else {
            Access::Refused
        })
    }

    /// Give remote instance `id` a new access key and host addresses (the
    /// host reset its key and the owner added the fresh link).
    pub async fn update_remote(
        &self,
        seal_key: &Key,
        id: &str,
        addrs: &[String],
        access_key: &str,
    ) -> Result<()> {
        let sealed = crypto::seal(seal_key, access_key.as_bytes(), &access_aad(id));
        let addrs = serde_json::to_string(addrs).unwrap_or_else(|_| "[]".into());
        let row_id = id.to_owned();
        let n = self
            .catalog
            .write(move |c| {
                c.execute(
                    "UPDATE agent_instances SET remote_key = ?2, remote_addrs = ?3, updated_ms = ?4
                     WHERE id = ?1 AND remote_peer IS NOT NULL",
                    params![row_id, sealed, addrs, now_ms()],
                )
            })
            .await?;
        if n == 0 {
            return Err(AgentsError::NotFound("no such remote instance".into()));
        }
        Ok(())
    }

    /// Whether `id` is a remote instance (hosted elsewhere).
    pub async fn is_remote(&self, id: &str) -> Result<bool> {
        let row_id = id.to_owned();
        let found: Option<bool> = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT remote_peer IS NOT NULL FROM agent_instances WHERE id = ?1",
                    [row_id],
                    |r| r.get(0),
                )
                .optional()
            })
            .await?;
        Ok(found.unwrap_or(false))
    }

    /// The instance a session belongs to, if the session is here.
    pub async fn session_instance(&self, sid: &str) -> Result<Option<String>> {
        let row_id = sid.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT instance_id FROM agent_sessions WHERE id = ?1",
                    [row_id],
                    |r| r.get(0),
                )
                .optional()
            })
            .await?)
    }

    /// Ids of every remote instance.
    pub async fn remote_ids(&self) -> Result<Vec<String>> {
        Ok(self
            .catalog
            .read(|c| {
                let mut st = c.prepare(
                    "SELECT id FROM agent_instances WHERE remote_peer IS NOT NULL ORDER BY id",
                )?;
                st.query_map([], |r| r.get(0))?.collect()
            })
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_are_bounded() {
        let head = RequestHead {
            key: "k".into(),
            instance_id: format!("ai_{}", "a".repeat(32)),
            method: "GET".into(),
            path: "/api/v1/instances/x/sessions?archived=all".into(),
            headers: vec![("accept".into(), "application/json".into())],
            body_len: 3,
        };
        head.check().unwrap();
        assert!(!head.to_string().contains('k'));
        let mut buf = Vec::new();
        write_head(&mut buf, &head).await.unwrap();
        buf.extend_from_slice(b"abc");
        write_chunk(&mut buf, b"hello").await.unwrap();
        write_end(&mut buf).await.unwrap();
        let mut r = futures::io::Cursor::new(buf);
        let back: RequestHead = read_head(&mut r).await.unwrap();
        assert_eq!(back.path, head.path);
        assert_eq!(read_body(&mut r, back.body_len).await.unwrap(), b"abc");
        assert_eq!(read_chunk(&mut r).await.unwrap().unwrap(), b"hello");
        assert!(read_chunk(&mut r).await.unwrap().is_none());

        let mut big = Vec::new();
        big.extend_from_slice(&(MAX_HEAD + 1).to_be_bytes());
        let mut r = futures::io::Cursor::new(big);
        assert!(read_head::<_, RequestHead>(&mut r).await.is_err());
        for bad in [
            RequestHead {
                path: "/etc/passwd".into(),
                ..head.clone()
            },
            RequestHead {
                method: "CONNECT".into(),
                ..head.clone()
            },
            RequestHead {
                body_len: MAX_BODY + 1,
                ..head.clone()
            },
            RequestHead {
                headers: vec![("x y".into(), "1".into())],
                ..head.clone()
            },
            RequestHead {
                path: "/api/v1/a b".into(),
                ..head.clone()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
