//! Apps the user knows, their links to the identity, and timed grants.
//!
//! An app is identified by its client_id, but a client_id is public, so it
//! is not proof. At link approval the app receives its own secret
//! (`app_token`, stored only as a hash). Apps written against the IPC spec
//! alone never send it: they are identified as the spec's clients are
//! (client_id, Origin, executable, all shown in prompts) and signing always
//! asks. Once an app has presented its token it is *bound*: from then on its
//! client_id alone is refused, so apps that opt in get the stronger proof.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CatalogError};
use crate::identity::AgentPubKey;
use crate::secret::{self, SecretHash};
use crate::time::now_ms;

/// Profile fields an app may be allowed to read.
pub const SCOPES: &[&str] = &["display_name", "username", "profile_picture"];
pub const MAX_CLIENT_ID_LEN: usize = 128;
pub const MAX_NAME_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub allowed_origins: Vec<String>,
    /// The app has presented its token: client_id alone no longer proves it.
    pub token_bound: bool,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub id: String,
    pub client_id: String,
    pub app_name: String,
    pub app_agent_pub_key: String,
    pub vault_agent_pub_key: String,
    pub signature: String,
    pub exe: Option<String>,
    pub created_ms: i64,
}

/// What an approved link records.
pub struct NewLink<'a> {
    pub client_id: &'a str,
    pub app_name: &'a str,
    pub app_key: &'a AgentPubKey,
    pub vault_key: &'a AgentPubKey,
    pub signature_b64: &'a str,
    pub exe: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub kind: String,
    pub created_ms: i64,
    pub expires_at_ms: i64,
}

/// How a request proved which app it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppAuth {
    /// A live link's app token.
    Token { client_id: String, link_id: String },
    /// client_id alone: the app has never presented its token (the spec's
    /// clients). Anyone could claim it, so it never skips a prompt.
    ClientId { client_id: String },
}

impl AppAuth {
    pub fn client_id(&self) -> &str {
        match self {
            AppAuth::Token { client_id, .. } | AppAuth::ClientId { client_id } => client_id,
        }
    }

    /// Proven by the app's own secret.
    pub fn verified(&self) -> bool {
        matches!(self, AppAuth::Token { .. })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no client_id provided")]
    MissingClientId,
    #[error("client_id is not registered")]
    UnknownClientId,
    #[error("this app has used its app token before; present it (Authorization: Bearer)")]
    MissingToken,
    #[error("invalid app token")]
    BadToken,
    #[error("{0}")]
    Invalid(String),
    #[error("an app with this client_id already exists")]
    Exists,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

#[derive(Clone)]
pub struct Apps {
    catalog: Catalog,
}

/// What a new or edited app says about itself.
#[derive(Debug, Clone, Deserialize)]
pub struct AppSpec {
    pub client_id: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

impl AppSpec {
    pub fn validate(&self) -> Result<(), AppError> {
        validate_client_id(&self.client_id)?;
        validate_name(&self.name)?;
        validate_scopes(&self.scopes)?;
        if self.allowed_origins.len() > 16 {
            return Err(AppError::Invalid("at most 16 allowed origins".into()));
        }
        for o in &self.allowed_origins {
            validate_origin(o)?;
        }
        Ok(())
    }
}

pub fn validate_scopes(scopes: &[String]) -> Result<(), AppError> {
    for s in scopes {
        if !SCOPES.contains(&s.as_str()) {
            return Err(AppError::Invalid(format!(
                "unknown scope {s:?}; scopes are {}",
                SCOPES.join(", ")
            )));
        }
    }
    Ok(())
}

pub fn validate_client_id(id: &str) -> Result<(), AppError> {
    if id.is_empty() {
        return Err(AppError::MissingClientId);
    }
    if id.len() > MAX_CLIENT_ID_LEN
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    {
        return Err(AppError::Invalid(
            "client_id must be 1-128 characters of letters, digits, '-', '_', '.', ':'".into(),
        ));
    }
    Ok(())
}

pub fn validate_name(name: &str) -> Result<(), AppError> {
    if name.trim().is_empty()
        || name.chars().count() > MAX_NAME_LEN
        || name.chars().any(char::is_control)
    {
        return Err(AppError::Invalid(format!(
            "app name must be 1-{MAX_NAME_LEN} printable characters"
        )));
    }
    Ok(())
}

/// `scheme://host[:port]`, nothing more; `null` and `*` are never allowed.
fn validate_origin(o: &str) -> Result<(), AppError> {
    let bad = || AppError::Invalid(format!("{o:?} is not an origin like https://app.example"));
    let (scheme, rest) = o.split_once("://").ok_or_else(bad)?;
    if !matches!(scheme, "http" | "https" | "tauri")
        || rest.is_empty()
        || rest.contains(['/', '?', '#', '*', ' ', '@'])
        || o.len() > 200
    {
        return Err(bad());
    }
    Ok(())
}

fn app_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<App> {
    Ok(App {
        client_id: r.get(0)?,
        name: r.get(1)?,
        scopes: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or_default(),
        allowed_origins: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
        token_bound: r.get::<_, Option<i64>>(4)?.is_some(),
        created_ms: r.get(5)?,
    })
}

const APP_COLUMNS: &str = "client_id, name, scopes, origins, token_bound_ms, created_ms";
const LINK_COLUMNS: &str =
    "id, client_id, app_name, app_agent_pub_key, vault_agent_pub_key, signature, exe, created_ms";

fn link_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Link> {
    Ok(Link {
        id: r.get(0)?,
        client_id: r.get(1)?,
        app_name: r.get(2)?,
        app_agent_pub_key: r.get(3)?,
        vault_agent_pub_key: r.get(4)?,
        signature: r.get(5)?,
        exe: r.get(6)?,
        created_ms: r.get(7)?,
    })
}

impl Apps {
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }

    pub async fn list(&self) -> Result<Vec<App>, AppError> {
        Ok(self
            .catalog
            .read(|c| {
                let mut s = c.prepare(&format!("SELECT {APP_COLUMNS} FROM apps ORDER BY name"))?;
                s.query_map([], app_from_row)?.collect()
            })
            .await?)
    }

    pub async fn get(&self, client_id: &str) -> Result<Option<App>, AppError> {
        use rusqlite::OptionalExtension;
        let id = client_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                c.query_row(
                    &format!("SELECT {APP_COLUMNS} FROM apps WHERE client_id = ?1"),
                    [id],
                    app_from_row,
                )
                .optional()
            })
            .await?)
    }

    /// Register an app. Errors if the client_id is taken.
    pub async fn create(&self, spec: AppSpec) -> Result<App, AppError> {
        spec.validate()?;
        let app = App {
            client_id: spec.client_id,
            name: spec.name,
            scopes: spec.scopes,
            allowed_origins: spec.allowed_origins,
            token_bound: false,
            created_ms: now_ms(),
        };
        let row = app.clone();
        let inserted = self
            .catalog
            .write(move |c| {
                c.execute(
                    "INSERT OR IGNORE INTO apps (client_id, name, scopes, origins, legacy, created_ms)
                     VALUES (?1, ?2, ?3, ?4, 0, ?5)",
                    rusqlite::params![
                        row.client_id,
                        row.name,
                        serde_json::to_string(&row.scopes).expect("strings serialise"),
                        serde_json::to_string(&row.allowed_origins).expect("strings serialise"),
                        row.created_ms
                    ],
                )
            })
            .await?;
        if inserted == 0 {
            return Err(AppError::Exists);
        }
        Ok(app)
    }

    /// Replace an app's name, scopes and origins.
    pub async fn update(&self, spec: AppSpec) -> Result<App, AppError> {
        spec.validate()?;
        let s = spec.clone();
        let changed = self
            .catalog
            .write(move |c| {
                c.execute(
                    "UPDATE apps SET name = ?2, scopes = ?3, origins = ?4 WHERE client_id = ?1",
                    rusqlite::params![
                        s.client_id,
                        s.name,
                        serde_json::to_string(&s.scopes).expect("strings serialise"),
                        serde_json::to_string(&s.allowed_origins).expect("strings serialise"),
                    ],
                )
            })
            .await?;
        if changed == 0 {
            return Err(AppError::NotFound);
        }
        self.get(&spec.client_id).await?.ok_or(AppError::NotFound)
    }

    /// Forget an app, its links and grants (its backups are kept until the
    /// user deletes them: they are the user's data).
    pub async fn delete(&self, client_id: &str) -> Result<(), AppError> {
        let id = client_id.to_owned();
        let n = self
            .catalog
            .write(move |c| c.execute("DELETE FROM apps WHERE client_id = ?1", [id]))
            .await?;
        if n == 0 {
            return Err(AppError::NotFound);
        }
        Ok(())
    }

    /// Is any registered app allowed to call from this browser origin?
    pub async fn origin_is_registered(&self, origin: &str) -> Result<bool, AppError> {
        Ok(self.list().await?.iter().any(|a| {
            a.allowed_origins
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
        }))
    }

    /// Prove which app a request comes from.
    pub async fn authenticate(
        &self,
        client_id: Option<&str>,
        bearer: Option<&str>,
    ) -> Result<AppAuth, AppError> {
        if let Some(token) = bearer {
            let hash = SecretHash::of(token);
            let token_id = hash.id();
            let row: Option<(String, String, Vec<u8>)> = self
                .catalog
                .read(move |c| {
                    use rusqlite::OptionalExtension;
                    c.query_row(
                        "SELECT id, client_id, token_hash FROM links WHERE token_id = ?1",
                        [token_id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()
                })
                .await?;
            let Some((link_id, owner, stored)) = row else {
                return Err(AppError::BadToken);
            };
            let stored: [u8; 32] = stored.try_into().map_err(|_| AppError::BadToken)?;
            if !SecretHash(stored).matches(&hash) {
                return Err(AppError::BadToken);
            }
            if client_id.is_some_and(|c| c != owner) {
                return Err(AppError::BadToken);
            }
            // From its first token on, the app's client_id alone is no proof.
            let bound = owner.clone();
            self.catalog
                .write(move |c| {
                    c.execute(
                        "UPDATE apps SET token_bound_ms = ?2
                         WHERE client_id = ?1 AND token_bound_ms IS NULL",
                        rusqlite::params![bound, now_ms()],
                    )
                })
                .await?;
            return Ok(AppAuth::Token {
                client_id: owner,
                link_id,
            });
        }
        let client_id = client_id
            .filter(|c| !c.is_empty())
            .ok_or(AppError::MissingClientId)?;
        match self.get(client_id).await? {
            None => Err(AppError::UnknownClientId),
            Some(app) if app.token_bound => Err(AppError::MissingToken),
            Some(app) => Ok(AppAuth::ClientId {
                client_id: app.client_id,
            }),
        }
    }

    /// Record an approved link, registering the app if it is new, and mint
    /// the app's token. Re-linking the same key replaces the old link.
    /// `scopes`, when the user chose them in the prompt, replace the app's.
    pub async fn add_link(
        &self,
        new: NewLink<'_>,
        scopes: Option<Vec<String>>,
    ) -> Result<(Link, String), AppError> {
        let NewLink {
            client_id,
            app_name,
            app_key,
            vault_key,
            signature_b64,
            exe,
        } = new;
        validate_client_id(client_id)?;
        validate_name(app_name)?;
        if let Some(s) = &scopes {
            validate_scopes(s)?;
        }
        let scopes = scopes.map(|s| serde_json::to_string(&s).expect("strings serialise"));
        let token = secret::random_token();
        let hash = SecretHash::of(&token);
        let link = Link {
            id: hex::encode(crate::identity::crypto::random_bytes::<16>()),
            client_id: client_id.to_owned(),
            app_name: app_name.to_owned(),
            app_agent_pub_key: app_key.to_string(),
            vault_agent_pub_key: vault_key.to_string(),
            signature: signature_b64.to_owned(),
            exe,
            created_ms: now_ms(),
        };
        let l = link.clone();
        self.catalog
            .write(move |c| {
                let tx = c.transaction()?;
                tx.execute(
                    "INSERT OR IGNORE INTO apps (client_id, name, scopes, origins, legacy, created_ms)
                     VALUES (?1, ?2, '[]', '[]', 0, ?3)",
                    rusqlite::params![l.client_id, l.app_name, l.created_ms],
                )?;
                if let Some(scopes) = &scopes {
                    tx.execute(
                        "UPDATE apps SET scopes = ?2 WHERE client_id = ?1",
                        [&l.client_id, scopes],
                    )?;
                }
                tx.execute(
                    "DELETE FROM links WHERE client_id = ?1 AND app_agent_pub_key = ?2",
                    [&l.client_id, &l.app_agent_pub_key],
                )?;
                tx.execute(
                    &format!(
                        "INSERT INTO links ({LINK_COLUMNS}, token_id, token_hash)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                    ),
                    rusqlite::params![
                        l.id,
                        l.client_id,
                        l.app_name,
                        l.app_agent_pub_key,
                        l.vault_agent_pub_key,
                        l.signature,
                        l.exe,
                        l.created_ms,
                        hash.id(),
                        hash.0.to_vec()
                    ],
                )?;
                tx.commit()
            })
            .await?;
        Ok((link, token))
    }

    pub async fn links(&self) -> Result<Vec<Link>, AppError> {
        Ok(self
            .catalog
            .read(|c| {
                let mut s = c.prepare(&format!(
                    "SELECT {LINK_COLUMNS} FROM links ORDER BY created_ms"
                ))?;
                s.query_map([], link_from_row)?.collect()
            })
            .await?)
    }

    /// The registered apps whose links were approved for this executable.
    pub async fn apps_linked_from(&self, exe: &str) -> Result<Vec<App>, AppError> {
        let exe = exe.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(&format!(
                    "SELECT {APP_COLUMNS} FROM apps WHERE client_id IN
                     (SELECT client_id FROM links WHERE exe = ?1) ORDER BY client_id"
                ))?;
                s.query_map([exe], app_from_row)?.collect()
            })
            .await?)
    }

    /// The live link of this app key, if any (optionally within one app).
    pub async fn find_link(
        &self,
        client_id: Option<&str>,
        app_key: &str,
    ) -> Result<Option<Link>, AppError> {
        let (client, key) = (client_id.map(str::to_owned), app_key.to_owned());
        Ok(self
            .catalog
            .read(move |c| {
                use rusqlite::OptionalExtension;
                c.query_row(
                    &format!(
                        "SELECT {LINK_COLUMNS} FROM links WHERE app_agent_pub_key = ?1
                         AND (?2 IS NULL OR client_id = ?2) ORDER BY created_ms DESC LIMIT 1"
                    ),
                    rusqlite::params![key, client],
                    link_from_row,
                )
                .optional()
            })
            .await?)
    }

    pub async fn delete_link(&self, id: &str) -> Result<Link, AppError> {
        let id = id.to_owned();
        let link = self
            .catalog
            .write(move |c| {
                use rusqlite::OptionalExtension;
                let link = c
                    .query_row(
                        &format!("SELECT {LINK_COLUMNS} FROM links WHERE id = ?1"),
                        [&id],
                        link_from_row,
                    )
                    .optional()?;
                c.execute("DELETE FROM links WHERE id = ?1", [&id])?;
                Ok(link)
            })
            .await?;
        link.ok_or(AppError::NotFound)
    }

    /// Remember "allow `kind` for this app" until `expires_at_ms`.
    pub async fn add_grant(
        &self,
        client_id: &str,
        kind: &str,
        seconds: u64,
    ) -> Result<Grant, AppError> {
        let now = now_ms();
        let grant = Grant {
            id: hex::encode(crate::identity::crypto::random_bytes::<16>()),
            client_id: client_id.to_owned(),
            kind: kind.to_owned(),
            created_ms: now,
            expires_at_ms: now.saturating_add((seconds as i64).saturating_mul(1000)),
        };
        let g = grant.clone();
        self.catalog
            .write(move |c| {
                c.execute("DELETE FROM grants WHERE expires_at_ms <= ?1", [now])?;
                c.execute(
                    "INSERT INTO grants (id, client_id, kind, created_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                    rusqlite::params![g.id, g.client_id, g.kind, g.created_ms, g.expires_at_ms],
                )
            })
            .await?;
        Ok(grant)
    }

    pub async fn grants(&self) -> Result<Vec<Grant>, AppError> {
        let now = now_ms();
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(
                    "SELECT id, client_id, kind, created_ms, expires_at_ms FROM grants
                     WHERE expires_at_ms > ?1 ORDER BY expires_at_ms",
                )?;
                s.query_map([now], |r| {
                    Ok(Grant {
                        id: r.get(0)?,
                        client_id: r.get(1)?,
                        kind: r.get(2)?,
                        created_ms: r.get(3)?,
                        expires_at_ms: r.get(4)?,
                    })
                })?
                .collect()
            })
            .await?)
    }

    pub async fn has_grant(&self, client_id: &str, kind: &str) -> Result<bool, AppError> {
        Ok(self
            .grants()
            .await?
            .iter()
            .any(|g| g.client_id == client_id && g.kind == kind))
    }

    pub async fn delete_grant(&self, id: &str) -> Result<(), AppError> {
        let id = id.to_owned();
        let n = self
            .catalog
            .write(move |c| c.execute("DELETE FROM grants WHERE id = ?1", [id]))
            .await?;
        if n == 0 {
            return Err(AppError::NotFound);
        }
        Ok(())
    }
}
