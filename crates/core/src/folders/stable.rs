//! Reading a file that someone may be writing. The scanner stats a file,
//! then reads it; an editor saving in between would leave a torn mix of old
//! and new bytes. [`StableFile`] re-checks size and mtime when the read
//! reaches the end and fails the read (so the upload keeps nothing) if the
//! file is not what was stat'ed; the caller retries with a fresh stat.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, ReadBuf};

use super::base::Stat;
use super::scan;

/// The marker inside the `io::Error` a changed file ends its read with.
#[derive(Debug)]
pub(super) struct ChangedWhileRead;

impl std::fmt::Display for ChangedWhileRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the file changed while it was being read")
    }
}

impl std::error::Error for ChangedWhileRead {}

/// Whether `e` (anywhere down its chain of io errors) says the file changed.
pub(super) fn is_changed(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<ChangedWhileRead>())
}

pub(super) struct StableFile {
    inner: tokio::fs::File,
    path: PathBuf,
    expect: Stat,
    read: u64,
}

impl StableFile {
    /// Open `path`, expecting it to stay as `expect` says until read whole.
    pub(super) async fn open(path: PathBuf, expect: Stat) -> io::Result<Self> {
        Ok(Self {
            inner: tokio::fs::File::open(&path).await?,
            path,
            expect,
            read: 0,
        })
    }
}

impl AsyncRead for StableFile {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let (room, before) = (buf.remaining(), buf.filled().len());
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let n = buf.filled().len() - before;
        this.read += n as u64;
        let changed = this.read > this.expect.size
            || (n == 0 && room > 0 && {
                // End of file: a stat is one quick syscall.
                this.read != this.expect.size || scan::stat(&this.path)? != Some(this.expect)
            });
        if changed {
            // An error hands back no bytes.
            buf.set_filled(before);
            return Poll::Ready(Err(io::Error::other(ChangedWhileRead)));
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    async fn read_all(path: &std::path::Path, expect: Stat) -> io::Result<Vec<u8>> {
        let mut f = StableFile::open(path.to_owned(), expect).await?;
        let mut out = Vec::new();
        f.read_to_end(&mut out).await?;
        Ok(out)
    }

    #[tokio::test]
    async fn an_unchanged_file_reads_whole_and_a_changed_one_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"hello").unwrap();
        let stat = scan::stat(&path).unwrap().unwrap();
        assert_eq!(read_all(&path, stat).await.unwrap(), b"hello");

        // Grown since the stat: refused.
        std::fs::write(&path, b"hello, world").unwrap();
        let e = read_all(&path, stat).await.unwrap_err();
        assert!(is_changed(&e), "{e}");

        // Same size, new mtime (rewritten in place): refused.
        let stat = scan::stat(&path).unwrap().unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1))
            .unwrap();
        let e = read_all(&path, stat).await.unwrap_err();
        assert!(is_changed(&e), "{e}");
        // Shrunk: refused.
        let stat = scan::stat(&path).unwrap().unwrap();
        std::fs::write(&path, b"hi").unwrap();
        assert!(is_changed(&read_all(&path, stat).await.unwrap_err()));
    }
}
