//! The SQLite catalog: one file, WAL mode, one writer connection and a few
//! read-only ones. Schema changes are numbered `.sql` files in `migrations/`
//! applied at open. Every call runs on tokio's blocking pool so SQLite never
//! stalls the async runtime.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};

/// Migrations in order. Append only: never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_identity.sql"),
    include_str!("../migrations/0003_vaults.sql"),
    include_str!("../migrations/0004_vault_alias.sql"),
    include_str!("../migrations/0005_retention.sql"),
    include_str!("../migrations/0006_folders.sql"),
    include_str!("../migrations/0007_vault_roles.sql"),
    include_str!("../migrations/0008_app_token_binding.sql"),
    include_str!("../migrations/0009_version_origin.sql"),
    include_str!("../migrations/0010_mesh.sql"),
    include_str!("../migrations/0011_profile_contacts.sql"),
    include_str!("../migrations/0012_s3.sql"),
    include_str!("../migrations/0013_hub.sql"),
    include_str!("../migrations/0014_hub_keys_topics.sql"),
    include_str!("../migrations/0015_hub_rooms.sql"),
    include_str!("../migrations/0016_hub_a2a.sql"),
    include_str!("../migrations/0017_hub_ops.sql"),
    include_str!("../migrations/0018_hub_teams.sql"),
    include_str!("../migrations/0019_hub_history.sql"),
    include_str!("../migrations/0020_media.sql"),
    include_str!("../migrations/0021_media_video.sql"),
    include_str!("../migrations/0022_library.sql"),
    include_str!("../migrations/0023_agents.sql"),
];

/// How many read connections to keep open at most.
const MAX_IDLE_READERS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("catalog migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("catalog is closed")]
    Closed,
    #[error("catalog task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

pub type Result<T> = std::result::Result<T, CatalogError>;

/// A cheap-to-clone handle on the catalog.
#[derive(Clone)]
pub struct Catalog {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Option<Connection>>,
    readers: Mutex<Option<Vec<Connection>>>,
}

impl Catalog {
    /// Open (creating if needed) and migrate. Blocking: call at start-up or
    /// from a blocking task.
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let steps: Vec<M> = MIGRATIONS.iter().map(|sql| M::up(sql)).collect();
        Migrations::new(steps).to_latest(&mut conn)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(Some(conn)),
                readers: Mutex::new(Some(Vec::new())),
            }),
        })
    }

    /// Run `f` on the single writer connection. Writes are serialised here.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let conn = guard.as_mut().ok_or(CatalogError::Closed)?;
            Ok(f(conn)?)
        })
        .await?
    }

    /// Run `f` on a read-only connection; reads do not wait for the writer.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let conn = inner.take_reader()?;
            let result = f(&conn);
            inner.put_reader(conn);
            Ok(result?)
        })
        .await?
    }

    /// Checkpoint the WAL into the main file and close every connection.
    /// Later calls answer [`CatalogError::Closed`].
    pub async fn close(&self) -> Result<()> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let readers = inner
                .readers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            drop(readers);
            let writer = inner
                .writer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(conn) = writer {
                conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
                conn.close().map_err(|(_, e)| e)?;
            }
            Ok(())
        })
        .await?
    }
}

impl Inner {
    fn take_reader(&self) -> Result<Connection> {
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        let pool = pool.as_mut().ok_or(CatalogError::Closed)?;
        if let Some(conn) = pool.pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    }

    fn put_reader(&self, conn: Connection) {
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pool) = pool.as_mut()
            && pool.len() < MAX_IDLE_READERS
        {
            pool.push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_listed() {
        // The run-time variable: a shared target dir may hold a test binary
        // compiled in another checkout of this crate.
        let root = std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
        let dir = Path::new(&root).join("migrations");
        let files = std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "sql")
            })
            .count();
        assert_eq!(files, MIGRATIONS.len());
        Migrations::new(MIGRATIONS.iter().map(|s| M::up(s)).collect())
            .validate()
            .unwrap();
    }

    #[tokio::test]
    async fn writes_are_visible_to_readers_and_close_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let cat = Catalog::open(&path).unwrap();
        cat.write(|c| c.execute("INSERT INTO settings VALUES ('k', 'v')", []))
            .await
            .unwrap();
        let v: String = cat
            .read(|c| c.query_row("SELECT value FROM settings WHERE key='k'", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(v, "v");
        cat.close().await.unwrap();
        assert!(matches!(
            cat.read(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)))
                .await,
            Err(CatalogError::Closed)
        ));
        assert!(!dir.path().join("c.sqlite-wal").exists());
        // Reopening applies no migration twice and keeps the data.
        let cat = Catalog::open(&path).unwrap();
        let v: String = cat
            .read(|c| c.query_row("SELECT value FROM settings WHERE key='k'", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(v, "v");
    }
}
