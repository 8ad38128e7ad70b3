//! Content-defined chunking (FastCDC 2020). Sizes: 256 KiB minimum, 1 MiB
//! average, 4 MiB maximum. Cut points depend on content, so an insert moves
//! only the chunks around it (dedup across versions); 1 MiB chunks keep the
//! per-chunk costs (a catalog row, a file, an fsync, a seal) small against
//! the ~300 MB/s disk, and 4 MiB bounds the memory one upload holds. All
//! three are powers of two: fastcdc misbehaves with odd parameters.

use futures_util::StreamExt;
use tokio::io::AsyncRead;

pub const MIN_CHUNK: usize = 256 * 1024;
pub const AVG_CHUNK: usize = 1024 * 1024;
pub const MAX_CHUNK: usize = 4 * 1024 * 1024;

/// A chunker over `source` with Holdfast's sizes; drive it with
/// `as_stream()`.
pub fn chunker<R: AsyncRead + Unpin>(source: R) -> fastcdc::v2020::AsyncStreamCDC<R> {
    fastcdc::v2020::AsyncStreamCDC::new(source, MIN_CHUNK, AVG_CHUNK, MAX_CHUNK)
}

/// A source read far enough to know whether it needs a chunker.
pub enum Source<R> {
    /// Shorter than [`MIN_CHUNK`]: the whole source, which is its only chunk
    /// (none when empty), as the chunker would have cut it.
    Small(Vec<u8>),
    /// The bytes read so far, then the rest.
    Large(tokio::io::Chain<std::io::Cursor<Vec<u8>>, R>),
}

/// Read up to [`MIN_CHUNK`] bytes of `source`: a small file then needs no
/// chunker, whose 4 MiB buffer would cost more than the file (zeroing it,
/// and memory when many small files go at once).
pub async fn peek<R: AsyncRead + Unpin>(mut source: R) -> std::io::Result<Source<R>> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    (&mut source)
        .take(MIN_CHUNK as u64)
        .read_to_end(&mut head)
        .await?;
    Ok(if head.len() < MIN_CHUNK {
        Source::Small(head)
    } else {
        Source::Large(std::io::Cursor::new(head).chain(source))
    })
}

/// The io::Error of a chunker failure.
pub fn io_error(e: fastcdc::v2020::Error) -> std::io::Error {
    match e {
        fastcdc::v2020::Error::IoError(io) => io,
        other => std::io::Error::other(other.to_string()),
    }
}

/// Cut `source` into chunks, handing each to `sink` in order. Holds at most
/// one maximum-size chunk in memory; returns the total length.
pub async fn for_each_chunk<R, F, Fut, E>(source: R, mut sink: F) -> Result<u64, E>
where
    R: AsyncRead + Unpin,
    F: FnMut(Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: From<std::io::Error>,
{
    let mut cdc = chunker(source);
    let stream = cdc.as_stream();
    futures_util::pin_mut!(stream);
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| E::from(io_error(e)))?;
        total += chunk.data.len() as u64;
        sink(chunk.data).await?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
        // xorshift: reproducible incompressible data without a rand crate.
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    async fn chunks(data: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let total = for_each_chunk(data, |c| {
            out.push(c);
            async { Ok::<_, std::io::Error>(()) }
        })
        .await
        .unwrap();
        assert_eq!(total as usize, data.len());
        out
    }

    #[tokio::test]
    async fn edges() {
        assert!(chunks(&[]).await.is_empty());
        let one = chunks(&[7]).await;
        assert_eq!(one, vec![vec![7]]);
        let small = pseudo_random(MIN_CHUNK - 1, 1);
        assert_eq!(chunks(&small).await, vec![small.clone()]);
        // Uniform data has no content cut points: cut at the maximum.
        let flat = vec![0u8; 3 * MAX_CHUNK + 5];
        let c = chunks(&flat).await;
        assert_eq!(
            c.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![MAX_CHUNK, MAX_CHUNK, MAX_CHUNK, 5]
        );
    }

    #[tokio::test]
    async fn peeking_cuts_as_the_chunker_does() {
        for len in [0, 1, MIN_CHUNK - 1, MIN_CHUNK, 3 * MAX_CHUNK + 7] {
            let data = pseudo_random(len, 9);
            let cut = match peek(&data[..]).await.unwrap() {
                Source::Small(v) => (!v.is_empty()).then_some(v).into_iter().collect(),
                Source::Large(r) => {
                    assert!(len >= MIN_CHUNK);
                    let mut out = Vec::new();
                    for_each_chunk(r, |c| {
                        out.push(c);
                        async { Ok::<_, std::io::Error>(()) }
                    })
                    .await
                    .unwrap();
                    out
                }
            };
            assert_eq!(cut, chunks(&data).await, "{len} bytes");
        }
    }

    #[tokio::test]
    async fn sizes_and_reassembly() {
        let data = pseudo_random(24 * 1024 * 1024, 2);
        let c = chunks(&data).await;
        assert_eq!(c.concat(), data);
        for (i, chunk) in c.iter().enumerate() {
            assert!(chunk.len() <= MAX_CHUNK);
            if i + 1 < c.len() {
                assert!(chunk.len() >= MIN_CHUNK);
            }
        }
        let avg = data.len() / c.len();
        assert!(
            (AVG_CHUNK / 2..AVG_CHUNK * 2).contains(&avg),
            "average {avg}"
        );
    }

    #[tokio::test]
    async fn an_insert_changes_at_most_two_chunks() {
        let data = pseudo_random(32 * 1024 * 1024, 3);
        let mut edited = data.clone();
        edited.insert(data.len() / 2, 0xAB);
        let before: std::collections::HashSet<Vec<u8>> = chunks(&data).await.into_iter().collect();
        let after = chunks(&edited).await;
        let new = after.iter().filter(|c| !before.contains(*c)).count();
        assert!(new <= 2, "{new} new chunks");
    }
}
