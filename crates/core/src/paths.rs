//! Where Holdfast keeps things. `--data-dir DIR` puts everything (config,
//! catalog, keys, tokens, logs) under DIR so several daemons can run side by
//! side; without it, the platform's config and data directories are used.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Paths {
    data_dir: PathBuf,
    config_file: PathBuf,
}

impl Paths {
    /// Resolve the layout from the CLI's `--data-dir` and `--config`.
    pub fn resolve(data_dir: Option<PathBuf>, config_file: Option<PathBuf>) -> io::Result<Self> {
        let (data_dir, default_config) = match data_dir {
            Some(dir) => {
                let config = dir.join("config.yaml");
                (dir, config)
            }
            None => {
                let dirs = directories::ProjectDirs::from("", "", "holdfast").ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        "no home directory; pass --data-dir",
                    )
                })?;
                (
                    dirs.data_dir().to_owned(),
                    dirs.config_dir().join("config.yaml"),
                )
            }
        };
        Ok(Self {
            data_dir,
            config_file: config_file.unwrap_or(default_config),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn config_file(&self) -> &Path {
        &self.config_file
    }

    /// Metadata (tokens, keys, endpoints) lives in the data dir itself.
    pub fn metadata_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn catalog(&self) -> PathBuf {
        self.data_dir.join("catalog.sqlite")
    }

    pub fn node_key(&self) -> PathBuf {
        self.data_dir.join("node.key")
    }

    /// The per-process admin token the CLI presents (mode 0600).
    pub fn admin_token(&self) -> PathBuf {
        self.metadata_dir().join("cli-admin.token")
    }

    /// Actual bound addresses of every surface, written after binding.
    pub fn endpoints(&self) -> PathBuf {
        self.data_dir.join("endpoints.json")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    /// Saved diagnostics reports (`.zip`).
    pub fn diagnostics_dir(&self) -> PathBuf {
        self.data_dir.join("diagnostics")
    }

    /// Sealed vault blocks.
    pub fn blocks(&self) -> PathBuf {
        self.data_dir.join("blocks")
    }

    /// The auto-generated self-signed TLS pair.
    pub fn tls_dir(&self) -> PathBuf {
        self.data_dir.join("tls")
    }
}
