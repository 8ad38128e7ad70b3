//! Instances and what is configured on them: provider keys (sealed under a
//! key the caller derives from the identity), MCP servers, workspace
//! folders and attachments.

use std::path::Path;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::remote::access_aad;
use super::{AgentStore, AgentType, AgentsError, PERMISSION_MODES, Result, check_name};
use crate::identity::crypto::{self, Key};
use crate::settings::mask;
use crate::time::now_ms;

/// Workspaces per instance at most.
pub const MAX_WORKSPACES: usize = 64;
/// MCP servers per instance at most.
pub const MAX_MCP_SERVERS: usize = 32;
/// Longest provider API key.
pub const MAX_KEY_CHARS: usize = 4096;

#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    pub path: String,
    pub name: String,
    pub added_ms: i64,
}

/// A provider as shown: never the key, only whether one is set.
#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub key_set: bool,
    pub key_hint: Option<String>,
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: AgentType,
    pub name: String,
    pub remote: bool,
    pub host_node_id: Option<String>,
    pub defaults: Value,
    pub workspaces: Vec<Workspace>,
    pub providers: Vec<Provider>,
    pub mcp_servers: i64,
    pub sessions: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// The id on the hosting node (remote instances only).
    #[serde(skip)]
    pub remote_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct McpServer {
    pub name: String,
    pub transport: &'static str,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub url: Option<String>,
    pub env_keys: Vec<String>,
    pub header_keys: Vec<String>,
    pub oauth: Value,
}

/// An MCP server to add, as the request gives it.
#[derive(Debug, Clone)]
pub struct NewMcpServer {
    pub name: String,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub url: Option<String>,
    pub env: Map<String, Value>,
    pub headers: Map<String, Value>,
}

/// One MCP server with its secrets opened, for the agent's config.
#[derive(Debug, Clone)]
pub struct McpLaunch {
    pub name: String,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub url: Option<String>,
    pub env: Map<String, Value>,
    pub headers: Map<String, Value>,
}

fn default_defaults() -> Value {
    json!({"model": null, "system_prompt": null, "permission_mode": "default"})
}

/// Validates a `defaults` patch and merges it over `current`.
pub fn merge_defaults(current: &Value, patch: &Value) -> Result<Value> {
    let Some(patch) = patch.as_object() else {
        return Err(AgentsError::BadRequest("defaults: an object".into()));
    };
    let mut out = current.as_object().cloned().unwrap_or_default();
    for (k, v) in patch {
        match k.as_str() {
            "model" => check_model(v)?,
            "system_prompt" => check_system_prompt(v)?,
            "permission_mode" => check_permission_mode(v)?,
            other => {
                return Err(AgentsError::BadRequest(format!(
                    "defaults.{other}: unknown field (model, system_prompt, permission_mode)"
                )));
            }
        }
        out.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(out))
}

pub fn check_model(v: &Value) -> Result<()> {
    match v {
        Value::Null => Ok(()),
        Value::String(s)
            if !s.is_empty()
                && s.len() <= super::MAX_MODEL_CHARS
                && s.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(())
        }
        _ => Err(AgentsError::BadRequest(
            "model: null or a model id (printable ASCII, at most 128 characters)".into(),
        )),
    }
}

pub fn check_system_prompt(v: &Value) -> Result<()> {
    match v {
        Value::Null => Ok(()),
        Value::String(s) if s.len() <= super::MAX_PROMPT_BYTES => Ok(()),
        _ => Err(AgentsError::BadRequest(
            "system_prompt: null or text of at most 64 KiB".into(),
        )),
    }
}

pub fn check_permission_mode(v: &Value) -> Result<()> {
    match v.as_str() {
        Some(m) if PERMISSION_MODES.contains(&m) => Ok(()),
        _ => Err(AgentsError::BadRequest(format!(
            "permission_mode: one of {}",
            PERMISSION_MODES.join(", ")
        ))),
    }
}

fn provider_aad(instance: &str, provider: &str) -> Vec<u8> {
    format!("holdfast/agents/provider/{instance}/{provider}").into_bytes()
}

fn mcp_aad(instance: &str, name: &str) -> Vec<u8> {
    format!("holdfast/agents/mcp/{instance}/{name}").into_bytes()
}

/// MCP server names the daemon reserves for itself.
pub const RESERVED_MCP: &str = "holdfast";

fn check_mcp_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(AgentsError::BadRequest(
            "name: 1 to 64 letters, digits, '-' or '_'".into(),
        ));
    }
    if name.eq_ignore_ascii_case(RESERVED_MCP) {
        return Err(AgentsError::BadRequest(format!(
            "name: '{RESERVED_MCP}' is Holdfast's own approval server"
        )));
    }
    Ok(())
}

fn string_map(field: &str, m: &Map<String, Value>) -> Result<()> {
    if m.len() > 64 {
        return Err(AgentsError::BadRequest(format!(
            "{field}: at most 64 entries"
        )));
    }
    for (k, v) in m {
        let ok_key =
            !k.is_empty() && k.len() <= 256 && k.bytes().all(|b| b.is_ascii_graphic() && b != b'=');
        let ok_val = v
            .as_str()
            .is_some_and(|s| s.len() <= 8192 && !s.contains('\0'));
        if !ok_key || !ok_val {
            return Err(AgentsError::BadRequest(format!(
                "{field}: names of printable ASCII, values strings of at most 8 KiB"
            )));
        }
    }
    Ok(())
}

impl AgentStore {
    pub async fn create_instance(&self, kind: AgentType, name: &str) -> Result<Instance> {
        let name = check_name("name", name)?;
        let id = super::new_id("ai_");
        let now = now_ms();
        let defaults = default_defaults().to_string();
        let row_id = id.clone();
        self.catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO agent_instances (id, type, name, defaults, created_ms, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![row_id, kind.as_str(), name, defaults, now],
                )
            })
            .await?;
        std::fs::create_dir_all(self.config_dir(&id))?;
        self.instance(&id).await
    }

    /// A remote instance: hosted by `peer`, reached with a sealed access key.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_remote_instance(
        &self,
        seal_key: &Key,
        kind: AgentType,
        name: &str,
        peer: &str,
        remote_id: &str,
        addrs: &[String],
        access_key: &str,
    ) -> Result<Instance> {
        let name = check_name("name", name)?;
        let id = super::new_id("ai_");
        let now = now_ms();
        let sealed = crypto::seal(seal_key, access_key.as_bytes(), &access_aad(&id));
        let (row_id, peer, remote_id) = (id.clone(), peer.to_owned(), remote_id.to_owned());
        let addrs = serde_json::to_string(addrs).unwrap_or_else(|_| "[]".into());
        self.catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO agent_instances (id, type, name, defaults, remote_peer, remote_id,
                        remote_addrs, remote_key, created_ms, updated_ms)
                     VALUES (?1, ?2, ?3, '{}', ?4, ?5, ?6, ?7, ?8, ?8)",
                    params![
                        row_id,
                        kind.as_str(),
                        name,
                        peer,
                        remote_id,
                        addrs,
                        sealed,
                        now
                    ],
                )
            })
            .await?;
        self.instance(&id).await
    }

    /// Where a remote instance lives and the key it is reached with.
    pub async fn remote_target(
        &self,
        seal_key: &Key,
        id: &str,
    ) -> Result<Option<(String, String, Vec<String>, String)>> {
        let row_id = id.to_owned();
        type Row = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<Vec<u8>>,
        );
        let row: Option<Row> = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT remote_peer, remote_id, remote_addrs, remote_key FROM agent_instances WHERE id = ?1",
                    [row_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
            })
            .await?;
        let Some((Some(peer), Some(rid), addrs, Some(sealed))) = row else {
            return Ok(None);
        };
        let key = crypto::open(seal_key, &sealed, &access_aad(id)).ok_or(AgentsError::Locked)?;
        let addrs: Vec<String> = addrs
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default();
        Ok(Some((
            peer,
            rid,
            addrs,
            String::from_utf8_lossy(&key).into_owned(),
        )))
    }

    pub async fn instances(&self) -> Result<Vec<Instance>> {
        let ids: Vec<String> = self
            .catalog
            .read(|c| {
                let mut st = c.prepare("SELECT id FROM agent_instances ORDER BY created_ms, id")?;
                st.query_map([], |r| r.get(0))?.collect()
            })
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.instance(&id).await?);
        }
        Ok(out)
    }

    pub async fn instance(&self, id: &str) -> Result<Instance> {
        let row_id = id.to_owned();
        let found = self
            .catalog
            .read(move |c| {
                let base = c
                    .query_row(
                        "SELECT id, type, name, defaults, remote_peer, remote_id, created_ms, updated_ms,
                            (SELECT count(*) FROM agent_mcp_servers m WHERE m.instance_id = i.id),
                            (SELECT count(*) FROM agent_sessions s WHERE s.instance_id = i.id)
                         FROM agent_instances i WHERE id = ?1",
                        [&row_id],
                        |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, String>(2)?,
                                r.get::<_, String>(3)?,
                                r.get::<_, Option<String>>(4)?,
                                r.get::<_, Option<String>>(5)?,
                                r.get::<_, i64>(6)?,
                                r.get::<_, i64>(7)?,
                                r.get::<_, i64>(8)?,
                                r.get::<_, i64>(9)?,
                            ))
                        },
                    )
                    .optional()?;
                let Some(base) = base else { return Ok(None) };
                let mut st = c.prepare(
                    "SELECT path, name, added_ms FROM agent_workspaces WHERE instance_id = ?1 ORDER BY added_ms, path",
                )?;
                let workspaces = st
                    .query_map([&row_id], |r| {
                        Ok(Workspace {
                            path: r.get(0)?,
                            name: r.get(1)?,
                            added_ms: r.get(2)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let mut st = c.prepare(
                    "SELECT provider, key_hint, base_url FROM agent_providers WHERE instance_id = ?1",
                )?;
                let keyed = st
                    .query_map([&row_id], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                        ))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(Some((base, workspaces, keyed)))
            })
            .await?;
        let Some((b, workspaces, keyed)) = found else {
            return Err(AgentsError::NotFound("no such agent instance".into()));
        };
        let kind = AgentType::parse(&b.1).unwrap_or(AgentType::Claude);
        let providers = kind
            .providers()
            .iter()
            .map(|p| {
                let k = keyed.iter().find(|(id, _, _)| id == p.id);
                Provider {
                    id: p.id.to_owned(),
                    name: p.name.to_owned(),
                    key_set: k.is_some(),
                    key_hint: k.map(|(_, h, _)| h.clone()),
                    base_url: k.and_then(|(_, _, u)| u.clone()),
                }
            })
            .collect();
        let mut defaults: Value = serde_json::from_str(&b.3).unwrap_or_else(|_| default_defaults());
        if let (Some(d), Value::Object(base)) = (defaults.as_object_mut(), default_defaults()) {
            for (k, v) in base {
                d.entry(k).or_insert(v);
            }
        }
        Ok(Instance {
            id: b.0,
            kind,
            name: b.2,
            remote: b.4.is_some(),
            host_node_id: b.4,
            defaults,
            workspaces,
            providers,
            mcp_servers: b.8,
            sessions: b.9,
            created_ms: b.6,
            updated_ms: b.7,
            remote_id: b.5,
        })
    }

    /// Rename and/or change defaults.
    pub async fn patch_instance(
        &self,
        id: &str,
        name: Option<&str>,
        defaults: Option<&Value>,
    ) -> Result<Instance> {
        let current = self.instance(id).await?;
        let name = name.map(|n| check_name("name", n)).transpose()?;
        let defaults = defaults
            .map(|d| merge_defaults(&current.defaults, d))
            .transpose()?;
        let row_id = id.to_owned();
        self.catalog
            .write(move |c| {
                if let Some(n) = name {
                    c.execute(
                        "UPDATE agent_instances SET name = ?2 WHERE id = ?1",
                        params![row_id, n],
                    )?;
                }
                if let Some(d) = defaults {
                    c.execute(
                        "UPDATE agent_instances SET defaults = ?2 WHERE id = ?1",
                        params![row_id, d.to_string()],
                    )?;
                }
                c.execute(
                    "UPDATE agent_instances SET updated_ms = ?2 WHERE id = ?1",
                    params![row_id, now_ms()],
                )
            })
            .await?;
        self.instance(id).await
    }

    /// Drops the instance, its sessions and transcripts, and its files.
    pub async fn delete_instance(&self, id: &str) -> Result<()> {
        let row_id = id.to_owned();
        let n = self
            .catalog
            .write(move |c| c.execute("DELETE FROM agent_instances WHERE id = ?1", [row_id]))
            .await?;
        if n == 0 {
            return Err(AgentsError::NotFound("no such agent instance".into()));
        }
        let dir = self.instance_dir(id);
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        Ok(())
    }

    // ---- providers ----

    pub async fn set_provider(
        &self,
        seal_key: &Key,
        id: &str,
        provider: &str,
        api_key: &str,
        base_url: Option<&str>,
    ) -> Result<Provider> {
        let inst = self.instance(id).await?;
        let Some(spec) = inst.kind.provider(provider) else {
            return Err(AgentsError::NotFound(format!(
                "{} has no provider '{provider}'",
                inst.kind.display_name()
            )));
        };
        if api_key.is_empty()
            || api_key.len() > MAX_KEY_CHARS
            || !api_key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(AgentsError::BadRequest(
                "api_key: printable ASCII without spaces, at most 4096 characters".into(),
            ));
        }
        let base_url = base_url
            .map(|u| crate::settings::check_base_url("base_url", u.trim()))
            .transpose()
            .map_err(|e| AgentsError::BadRequest(e.to_string()))?;
        if base_url.is_some() && spec.base_url_env.is_none() {
            return Err(AgentsError::BadRequest(format!(
                "base_url: {} takes no base URL",
                spec.name
            )));
        }
        let sealed = crypto::seal(seal_key, api_key.as_bytes(), &provider_aad(id, provider));
        let h = mask(api_key);
        let (row_id, p, u) = (id.to_owned(), provider.to_owned(), base_url);
        self.catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO agent_providers (instance_id, provider, sealed_key, key_hint, base_url, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (instance_id, provider) DO UPDATE SET sealed_key = ?3, key_hint = ?4,
                        base_url = ?5, updated_ms = ?6",
                    params![row_id, p, sealed, h, u, now_ms()],
                )
            })
            .await?;
        let inst = self.instance(id).await?;
        Ok(inst
            .providers
            .into_iter()
            .find(|p| p.id == provider)
            .expect("just set"))
    }

    pub async fn delete_provider(&self, id: &str, provider: &str) -> Result<()> {
        let inst = self.instance(id).await?;
        if inst.kind.provider(provider).is_none() {
            return Err(AgentsError::NotFound(format!(
                "{} has no provider '{provider}'",
                inst.kind.display_name()
            )));
        }
        let (row_id, p) = (id.to_owned(), provider.to_owned());
        self.catalog
            .write(move |c| {
                c.execute(
                    "DELETE FROM agent_providers WHERE instance_id = ?1 AND provider = ?2",
                    params![row_id, p],
                )
            })
            .await?;
        Ok(())
    }

    /// The environment the agent gets its keys from: `(name, value)` pairs,
    /// opened here and handed to the child only.
    pub async fn provider_env(&self, seal_key: &Key, id: &str) -> Result<Vec<(String, String)>> {
        let inst = self.instance(id).await?;
        let row_id = id.to_owned();
        let rows: Vec<(String, Vec<u8>, Option<String>)> = self
            .catalog
            .read(move |c| {
                let mut st = c.prepare(
                    "SELECT provider, sealed_key, base_url FROM agent_providers WHERE instance_id = ?1",
                )?;
                st.query_map([row_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .await?;
        let mut env = Vec::new();
        for (provider, sealed, base_url) in rows {
            let Some(spec) = inst.kind.provider(&provider) else {
                continue;
            };
            let key = crypto::open(seal_key, &sealed, &provider_aad(id, &provider))
                .ok_or(AgentsError::Locked)?;
            env.push((
                spec.key_env.to_owned(),
                String::from_utf8_lossy(&key).into_owned(),
            ));
            if let (Some(var), Some(u)) = (spec.base_url_env, base_url) {
                env.push((var.to_owned(), u));
            }
        }
        Ok(env)
    }

    /// One provider's key and base URL, opened (for listing its models).
    pub async fn provider_key(
        &self,
        seal_key: &Key,
        id: &str,
        provider: &str,
    ) -> Result<Option<(String, Option<String>)>> {
        let (row_id, p) = (id.to_owned(), provider.to_owned());
        let row: Option<(Vec<u8>, Option<String>)> = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT sealed_key, base_url FROM agent_providers WHERE instance_id = ?1 AND provider = ?2",
                    params![row_id, p],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
            })
            .await?;
        let Some((sealed, base)) = row else {
            return Ok(None);
        };
        let key = crypto::open(seal_key, &sealed, &provider_aad(id, provider))
            .ok_or(AgentsError::Locked)?;
        Ok(Some((String::from_utf8_lossy(&key).into_owned(), base)))
    }

    // ---- MCP servers ----

    pub async fn mcp_servers(&self, id: &str) -> Result<Vec<McpServer>> {
        self.instance(id).await?;
        let row_id = id.to_owned();
        let rows: Vec<(String, String, bool)> = self
            .catalog
            .read(move |c| {
                let mut st = c.prepare(
                    "SELECT name, config, oauth_token IS NOT NULL FROM agent_mcp_servers
                     WHERE instance_id = ?1 ORDER BY name",
                )?;
                st.query_map([row_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(name, config, token)| {
                let c: Value = serde_json::from_str(&config).unwrap_or(Value::Null);
                let strings = |k: &str| -> Vec<String> {
                    c[k].as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                McpServer {
                    name,
                    transport: if c["url"].is_string() {
                        "http"
                    } else {
                        "stdio"
                    },
                    command: c["command"].as_str().map(str::to_owned),
                    args: strings("args"),
                    url: c["url"].as_str().map(str::to_owned),
                    env_keys: strings("env_keys"),
                    header_keys: strings("header_keys"),
                    oauth: json!({ "token_set": token }),
                }
            })
            .collect())
    }

    pub async fn add_mcp_server(
        &self,
        seal_key: &Key,
        id: &str,
        new: NewMcpServer,
    ) -> Result<McpServer> {
        self.instance(id).await?;
        check_mcp_name(&new.name)?;
        match (&new.command, &new.url) {
            (Some(cmd), None) => {
                if cmd.is_empty() || cmd.len() > 1024 || cmd.contains('\0') {
                    return Err(AgentsError::BadRequest(
                        "command: a program, at most 1024 characters".into(),
                    ));
                }
                if !new.headers.is_empty() {
                    return Err(AgentsError::BadRequest(
                        "headers: only for a server with a url".into(),
                    ));
                }
            }
            (None, Some(u)) => {
                crate::settings::check_base_url("url", u)
                    .map_err(|e| AgentsError::BadRequest(e.to_string()))?;
                if !new.args.is_empty() || !new.env.is_empty() {
                    return Err(AgentsError::BadRequest(
                        "args and env: only for a server with a command".into(),
                    ));
                }
            }
            _ => {
                return Err(AgentsError::BadRequest(
                    "give exactly one of command (a local server) or url (a remote one)".into(),
                ));
            }
        }
        if new.args.len() > 64 || new.args.iter().any(|a| a.len() > 4096 || a.contains('\0')) {
            return Err(AgentsError::BadRequest(
                "args: at most 64 strings of at most 4 KiB".into(),
            ));
        }
        string_map("env", &new.env)?;
        string_map("headers", &new.headers)?;
        let config = json!({
            "command": new.command,
            "args": new.args,
            "url": new.url,
            "env_keys": new.env.keys().collect::<Vec<_>>(),
            "header_keys": new.headers.keys().collect::<Vec<_>>(),
        })
        .to_string();
        let secrets = json!({"env": new.env, "headers": new.headers}).to_string();
        let sealed = crypto::seal(seal_key, secrets.as_bytes(), &mcp_aad(id, &new.name));
        let (row_id, name) = (id.to_owned(), new.name.clone());
        let inserted = self
            .catalog
            .write(move |c| {
                let n: i64 = c.query_row(
                    "SELECT count(*) FROM agent_mcp_servers WHERE instance_id = ?1",
                    [&row_id],
                    |r| r.get(0),
                )?;
                if n as usize >= MAX_MCP_SERVERS {
                    return Ok(Err(AgentsError::BadRequest(format!(
                        "at most {MAX_MCP_SERVERS} MCP servers per instance"
                    ))));
                }
                let done = c.execute(
                    "INSERT OR IGNORE INTO agent_mcp_servers (instance_id, name, config, sealed_env, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![row_id, name, config, sealed, now_ms()],
                )?;
                Ok(if done == 0 {
                    Err(AgentsError::Conflict(format!(
                        "an MCP server named '{name}' is already there"
                    )))
                } else {
                    Ok(())
                })
            })
            .await?;
        inserted?;
        Ok(self
            .mcp_servers(id)
            .await?
            .into_iter()
            .find(|s| s.name == new.name)
            .expect("just added"))
    }

    pub async fn delete_mcp_server(&self, id: &str, name: &str) -> Result<()> {
        self.instance(id).await?;
        let (row_id, n) = (id.to_owned(), name.to_owned());
        let gone = self
            .catalog
            .write(move |c| {
                c.execute(
                    "DELETE FROM agent_mcp_servers WHERE instance_id = ?1 AND name = ?2",
                    params![row_id, n],
                )
            })
            .await?;
        if gone == 0 {
            return Err(AgentsError::NotFound("no such MCP server".into()));
        }
        Ok(())
    }

    /// Forgets a cached OAuth token (idempotent); 404 for an unknown server.
    pub async fn drop_mcp_token(&self, id: &str, name: &str) -> Result<()> {
        self.instance(id).await?;
        let (row_id, n) = (id.to_owned(), name.to_owned());
        let found = self
            .catalog
            .write(move |c| {
                c.execute(
                    "UPDATE agent_mcp_servers SET oauth_token = NULL WHERE instance_id = ?1 AND name = ?2",
                    params![row_id, n],
                )
            })
            .await?;
        if found == 0 {
            return Err(AgentsError::NotFound("no such MCP server".into()));
        }
        Ok(())
    }

    /// Every MCP server with its secrets opened, for one run's config.
    pub async fn mcp_launch(&self, seal_key: &Key, id: &str) -> Result<Vec<McpLaunch>> {
        let row_id = id.to_owned();
        let rows: Vec<(String, String, Option<Vec<u8>>)> = self
            .catalog
            .read(move |c| {
                let mut st = c.prepare(
                    "SELECT name, config, sealed_env FROM agent_mcp_servers WHERE instance_id = ?1 ORDER BY name",
                )?;
                st.query_map([row_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .await?;
        let mut out = Vec::new();
        for (name, config, sealed) in rows {
            let c: Value = serde_json::from_str(&config).unwrap_or(Value::Null);
            let secrets: Value = match sealed {
                Some(s) => {
                    let plain = crypto::open(seal_key, &s, &mcp_aad(id, &name))
                        .ok_or(AgentsError::Locked)?;
                    serde_json::from_slice(&plain).unwrap_or(Value::Null)
                }
                None => Value::Null,
            };
            out.push(McpLaunch {
                name,
                command: c["command"].as_str().map(str::to_owned),
                args: c["args"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                url: c["url"].as_str().map(str::to_owned),
                env: secrets["env"].as_object().cloned().unwrap_or_default(),
                headers: secrets["headers"].as_object().cloned().unwrap_or_default(),
            });
        }
        Ok(out)
    }

    // ---- workspaces ----

    /// Registers a folder the agent may work in: absolute, an existing
    /// directory, stored canonical.
    pub async fn add_workspace(
        &self,
        id: &str,
        path: &str,
        name: Option<&str>,
    ) -> Result<Workspace> {
        let inst = self.instance(id).await?;
        if inst.remote {
            return Err(AgentsError::BadRequest(
                "workspaces of a remote instance are registered on its host".into(),
            ));
        }
        if path.len() > 4096 || path.contains('\0') || !Path::new(path).is_absolute() {
            return Err(AgentsError::BadRequest(
                "path: an absolute folder path".into(),
            ));
        }
        let canon = std::fs::canonicalize(path)
            .map_err(|_| AgentsError::BadRequest(format!("path: {path} does not exist")))?;
        if !canon.is_dir() {
            return Err(AgentsError::BadRequest(format!(
                "path: {path} is not a folder"
            )));
        }
        let canon = canon.to_string_lossy().into_owned();
        let name = match name {
            Some(n) => check_name("name", n)?,
            None => Path::new(&canon)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| canon.clone()),
        };
        if inst.workspaces.len() >= MAX_WORKSPACES {
            return Err(AgentsError::BadRequest(format!(
                "at most {MAX_WORKSPACES} workspaces per instance"
            )));
        }
        if inst.workspaces.iter().any(|w| w.path == canon) {
            return Err(AgentsError::Conflict(format!(
                "{canon} is already a workspace"
            )));
        }
        let ws = Workspace {
            path: canon,
            name,
            added_ms: now_ms(),
        };
        let (row_id, w) = (id.to_owned(), ws.clone());
        self.catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO agent_workspaces (instance_id, path, name, added_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![row_id, w.path, w.name, w.added_ms],
                )
            })
            .await?;
        Ok(ws)
    }

    pub async fn remove_workspace(&self, id: &str, path: &str) -> Result<()> {
        self.instance(id).await?;
        let canon = std::fs::canonicalize(path)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| path.to_owned());
        let (row_id, p, raw) = (id.to_owned(), canon, path.to_owned());
        let gone = self
            .catalog
            .write(move |c| {
                c.execute(
                    "DELETE FROM agent_workspaces WHERE instance_id = ?1 AND (path = ?2 OR path = ?3)",
                    params![row_id, p, raw],
                )
            })
            .await?;
        if gone == 0 {
            return Err(AgentsError::NotFound("no such workspace".into()));
        }
        Ok(())
    }

    // ---- attachments ----

    /// Stores an uploaded attachment's bytes (durably) and its row.
    pub async fn add_attachment(
        &self,
        id: &str,
        name: &str,
        mime: &str,
        bytes: &[u8],
    ) -> Result<Value> {
        self.instance(id).await?;
        let name = check_name("name", name)?;
        if name.contains(['/', '\\']) || name == "." || name == ".." {
            return Err(AgentsError::BadRequest(
                "name: a file name, not a path".into(),
            ));
        }
        let aid = super::new_id("at_");
        let dir = self.attachments_dir(id);
        std::fs::create_dir_all(&dir)?;
        crate::fsutil::write_atomic(&dir.join(&aid), bytes, crate::fsutil::Mode::Private)?;
        let (row_id, a, n, m, size) = (
            id.to_owned(),
            aid.clone(),
            name.clone(),
            mime.to_owned(),
            bytes.len() as i64,
        );
        self.catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO agent_attachments (id, instance_id, name, mime, size, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![a, row_id, n, m, size, now_ms()],
                )
            })
            .await?;
        Ok(json!({"id": aid, "name": name, "size": bytes.len(), "mime": mime}))
    }

    /// An attachment's name and where its bytes are.
    pub async fn attachment(&self, id: &str, aid: &str) -> Result<(String, std::path::PathBuf)> {
        let (row_id, a) = (id.to_owned(), aid.to_owned());
        let name: Option<String> = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT name FROM agent_attachments WHERE id = ?2 AND instance_id = ?1",
                    params![row_id, a],
                    |r| r.get(0),
                )
                .optional()
            })
            .await?;
        let name = name.ok_or_else(|| AgentsError::NotFound(format!("no attachment {aid}")))?;
        Ok((name, self.attachments_dir(id).join(aid)))
    }
}
