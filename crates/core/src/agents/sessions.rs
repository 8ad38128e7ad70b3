//! Sessions and their transcripts: the rows, the ordered messages (seq
//! from 1) and the FTS5 search over them.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::instances::{check_model, check_permission_mode, check_system_prompt};
use super::{AgentStore, AgentsError, Result, check_name};
use crate::time::now_ms;

/// Messages per transcript page at most.
pub const MAX_PAGE: i64 = 5000;
/// Longest stored message text; longer tool output is cut (the agent's own
/// record keeps the whole).
pub const MAX_MESSAGE_TEXT: usize = 256 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub id: String,
    pub instance_id: String,
    pub title: String,
    pub workspace: Option<String>,
    pub status: String,
    pub archived: bool,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    pub permission_mode: String,
    pub forked_from: Option<Value>,
    pub error: Option<String>,
    pub message_count: i64,
    pub pending_approvals: usize,
    pub cost_usd: f64,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub last_message_ms: Option<i64>,
    /// The agent program's own session id (for resuming it).
    #[serde(skip)]
    pub agent_session: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Message {
    pub seq: i64,
    pub role: String,
    pub kind: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<Value>,
    pub ts_ms: i64,
    /// The agent's own id of the record this came from (fork points).
    #[serde(skip)]
    pub agent_uuid: Option<String>,
}

/// A message to append (seq and time are given on insert).
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub role: &'static str,
    pub kind: &'static str,
    pub text: String,
    pub tool: Option<Value>,
    pub agent_uuid: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub session_id: String,
    pub session_title: String,
    pub seq: i64,
    pub role: String,
    pub kind: String,
    pub snippet: String,
    pub ts_ms: i64,
}

/// What a new session starts with.
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    pub title: Option<String>,
    pub workspace: Option<String>,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    pub permission_mode: Option<String>,
    pub forked_from: Option<Value>,
}

const SESSION_COLS: &str = "s.id, s.instance_id, s.title, s.workspace, s.status, s.archived, s.model,
    s.system_prompt, s.permission_mode, s.forked_from, s.error, s.cost_usd, s.created_ms, s.updated_ms,
    s.last_message_ms, s.agent_session,
    (SELECT count(*) FROM agent_messages m WHERE m.session_id = s.id)";

fn session_row(r: &Row) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        instance_id: r.get(1)?,
        title: r.get(2)?,
        workspace: r.get(3)?,
        status: r.get(4)?,
        archived: r.get::<_, i64>(5)? != 0,
        model: r.get(6)?,
        system_prompt: r.get(7)?,
        permission_mode: r.get(8)?,
        forked_from: r
            .get::<_, Option<String>>(9)?
            .and_then(|s| serde_json::from_str(&s).ok()),
        error: r.get(10)?,
        cost_usd: r.get(11)?,
        created_ms: r.get(12)?,
        updated_ms: r.get(13)?,
        last_message_ms: r.get(14)?,
        agent_session: r.get(15)?,
        message_count: r.get(16)?,
        pending_approvals: 0,
    })
}

fn message_row(r: &Row) -> rusqlite::Result<Message> {
    Ok(Message {
        seq: r.get(0)?,
        role: r.get(1)?,
        kind: r.get(2)?,
        text: r.get(3)?,
        tool: r
            .get::<_, Option<String>>(4)?
            .and_then(|s| serde_json::from_str(&s).ok()),
        ts_ms: r.get(5)?,
        agent_uuid: r.get(6)?,
    })
}

/// Which sessions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archived {
    Hide,
    Only,
    All,
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn clip(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str(" …");
    }
    s
}

impl AgentStore {
    pub async fn create_session(&self, instance_id: &str, new: NewSession) -> Result<Session> {
        let inst = self.instance(instance_id).await?;
        let title = match new.title.as_deref() {
            Some(t) => check_name("title", t)?,
            None => "New session".to_owned(),
        };
        if let Some(w) = &new.workspace
            && !inst.workspaces.iter().any(|ws| &ws.path == w)
        {
            return Err(AgentsError::BadRequest(format!(
                "workspace: {w} is not one of this instance's workspaces (register it first)"
            )));
        }
        let d = &inst.defaults;
        let model = new.model.or_else(|| d["model"].as_str().map(str::to_owned));
        check_model(&json!(model))?;
        let system_prompt = new
            .system_prompt
            .or_else(|| d["system_prompt"].as_str().map(str::to_owned));
        check_system_prompt(&json!(system_prompt))?;
        let mode = new
            .permission_mode
            .or_else(|| d["permission_mode"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "default".into());
        check_permission_mode(&json!(mode))?;
        let id = super::new_id("as_");
        let now = now_ms();
        let (sid, iid) = (id.clone(), instance_id.to_owned());
        let forked = new.forked_from.map(|f| f.to_string());
        let workspace = new.workspace;
        self.catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO agent_sessions (id, instance_id, title, workspace, status, model,
                        system_prompt, permission_mode, forked_from, created_ms, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, 'idle', ?5, ?6, ?7, ?8, ?9, ?9)",
                    params![
                        sid,
                        iid,
                        title,
                        workspace,
                        model,
                        system_prompt,
                        mode,
                        forked,
                        now
                    ],
                )
            })
            .await?;
        self.session(&id).await
    }

    pub async fn session(&self, sid: &str) -> Result<Session> {
        let id = sid.to_owned();
        self.catalog
            .read(move |c| {
                c.query_row(
                    &format!("SELECT {SESSION_COLS} FROM agent_sessions s WHERE s.id = ?1"),
                    [id],
                    session_row,
                )
                .optional()
            })
            .await?
            .ok_or_else(|| AgentsError::NotFound("no such session".into()))
    }

    pub async fn sessions(&self, instance_id: &str, archived: Archived) -> Result<Vec<Session>> {
        self.instance(instance_id).await?;
        let iid = instance_id.to_owned();
        let filter = match archived {
            Archived::Hide => "AND s.archived = 0",
            Archived::Only => "AND s.archived = 1",
            Archived::All => "",
        };
        Ok(self
            .catalog
            .read(move |c| {
                let mut st = c.prepare(&format!(
                    "SELECT {SESSION_COLS} FROM agent_sessions s WHERE s.instance_id = ?1 {filter}
                     ORDER BY s.updated_ms DESC, s.id LIMIT 10000"
                ))?;
                st.query_map([iid], session_row)?.collect()
            })
            .await?)
    }

    /// Sessions the daemon left running (it stopped before they ended).
    pub async fn running_sessions(&self) -> Result<Vec<String>> {
        Ok(self
            .catalog
            .read(|c| {
                let mut st = c.prepare(
                    "SELECT id FROM agent_sessions WHERE status IN ('running', 'waiting')",
                )?;
                st.query_map([], |r| r.get(0))?.collect()
            })
            .await?)
    }

    /// Sets status and error together (error cleared unless given).
    pub async fn set_status(&self, sid: &str, status: &str, error: Option<&str>) -> Result<()> {
        let (id, st, err) = (sid.to_owned(), status.to_owned(), error.map(str::to_owned));
        self.catalog
            .write(move |c| {
                c.execute(
                    "UPDATE agent_sessions SET status = ?2, error = ?3, updated_ms = ?4 WHERE id = ?1",
                    params![id, st, err, now_ms()],
                )
            })
            .await?;
        Ok(())
    }

    pub async fn set_agent_session(&self, sid: &str, agent_session: &str) -> Result<()> {
        let (id, a) = (sid.to_owned(), agent_session.to_owned());
        self.catalog
            .write(move |c| {
                c.execute(
                    "UPDATE agent_sessions SET agent_session = ?2 WHERE id = ?1",
                    params![id, a],
                )
            })
            .await?;
        Ok(())
    }

    pub async fn add_cost(&self, sid: &str, usd: f64) -> Result<()> {
        if !usd.is_finite() || usd <= 0.0 {
            return Ok(());
        }
        let id = sid.to_owned();
        self.catalog
            .write(move |c| {
                c.execute(
                    "UPDATE agent_sessions SET cost_usd = cost_usd + ?2 WHERE id = ?1",
                    params![id, usd],
                )
            })
            .await?;
        Ok(())
    }

    pub async fn set_archived(&self, sid: &str, archived: bool) -> Result<Session> {
        let id = sid.to_owned();
        let n = self
            .catalog
            .write(move |c| {
                c.execute(
                    "UPDATE agent_sessions SET archived = ?2, updated_ms = ?3 WHERE id = ?1",
                    params![id, archived as i64, now_ms()],
                )
            })
            .await?;
        if n == 0 {
            return Err(AgentsError::NotFound("no such session".into()));
        }
        self.session(sid).await
    }

    /// Per-session settings: each field present in `patch` replaces the
    /// current one (null clears model / system prompt).
    pub async fn patch_session(&self, sid: &str, patch: &Value) -> Result<Session> {
        let Some(p) = patch.as_object() else {
            return Err(AgentsError::BadRequest("body: a JSON object".into()));
        };
        self.session(sid).await?;
        let mut sets: Vec<(&'static str, Option<String>)> = Vec::new();
        for (k, v) in p {
            match k.as_str() {
                "title" => {
                    let t = v
                        .as_str()
                        .ok_or_else(|| AgentsError::BadRequest("title: a string".into()))?;
                    sets.push(("title", Some(check_name("title", t)?)));
                }
                "model" => {
                    check_model(v)?;
                    sets.push(("model", v.as_str().map(str::to_owned)));
                }
                "system_prompt" => {
                    check_system_prompt(v)?;
                    sets.push(("system_prompt", v.as_str().map(str::to_owned)));
                }
                "permission_mode" => {
                    check_permission_mode(v)?;
                    sets.push(("permission_mode", v.as_str().map(str::to_owned)));
                }
                other => {
                    return Err(AgentsError::BadRequest(format!(
                        "{other}: unknown field (title, model, system_prompt, permission_mode)"
                    )));
                }
            }
        }
        let id = sid.to_owned();
        self.catalog
            .write(move |c| {
                let tx = c.transaction()?;
                for (col, v) in sets {
                    tx.execute(
                        &format!("UPDATE agent_sessions SET {col} = ?2 WHERE id = ?1"),
                        params![id, v],
                    )?;
                }
                tx.execute(
                    "UPDATE agent_sessions SET updated_ms = ?2 WHERE id = ?1",
                    params![id, now_ms()],
                )?;
                tx.commit()
            })
            .await?;
        self.session(sid).await
    }

    pub async fn delete_session(&self, sid: &str) -> Result<()> {
        let id = sid.to_owned();
        let n = self
            .catalog
            .write(move |c| c.execute("DELETE FROM agent_sessions WHERE id = ?1", [id]))
            .await?;
        if n == 0 {
            return Err(AgentsError::NotFound("no such session".into()));
        }
        let dir = self.session_dir(sid);
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        Ok(())
    }

    /// Appends messages in order, giving each the next seq; returns them.
    pub async fn append(&self, sid: &str, new: Vec<NewMessage>) -> Result<Vec<Message>> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let id = sid.to_owned();
        Ok(self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                let mut seq: i64 = tx.query_row(
                    "SELECT coalesce(max(seq), 0) FROM agent_messages WHERE session_id = ?1",
                    [&id],
                    |r| r.get(0),
                )?;
                let now = now_ms();
                let mut out = Vec::with_capacity(new.len());
                for m in new {
                    seq += 1;
                    let text = clip(m.text, MAX_MESSAGE_TEXT);
                    tx.execute(
                        "INSERT INTO agent_messages (session_id, seq, role, kind, text, tool, agent_uuid, ts_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            id,
                            seq,
                            m.role,
                            m.kind,
                            text,
                            m.tool.as_ref().map(Value::to_string),
                            m.agent_uuid,
                            now
                        ],
                    )?;
                    out.push(Message {
                        seq,
                        role: m.role.to_owned(),
                        kind: m.kind.to_owned(),
                        text,
                        tool: m.tool,
                        ts_ms: now,
                        agent_uuid: m.agent_uuid,
                    });
                }
                tx.execute(
                    "UPDATE agent_sessions SET last_message_ms = ?2, updated_ms = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
                tx.commit()?;
                Ok(out)
            })
            .await?)
    }

    /// Messages after `after`, at most `limit`, and the total.
    pub async fn transcript(
        &self,
        sid: &str,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<Message>, i64)> {
        self.session(sid).await?;
        let id = sid.to_owned();
        let limit = limit.clamp(1, MAX_PAGE);
        Ok(self
            .catalog
            .read(move |c| {
                let total: i64 = c.query_row(
                    "SELECT count(*) FROM agent_messages WHERE session_id = ?1",
                    [&id],
                    |r| r.get(0),
                )?;
                let mut st = c.prepare(
                    "SELECT seq, role, kind, text, tool, ts_ms, agent_uuid FROM agent_messages
                     WHERE session_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                )?;
                let rows = st
                    .query_map(params![id, after, limit], message_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok((rows, total))
            })
            .await?)
    }

    /// Copies messages 1..=`upto` of `from` into the new session `to`.
    pub async fn copy_transcript(&self, from: &str, to: &str, upto: i64) -> Result<()> {
        let (f, t) = (from.to_owned(), to.to_owned());
        self.catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO agent_messages (session_id, seq, role, kind, text, tool, agent_uuid, ts_ms)
                     SELECT ?2, seq, role, kind, text, tool, agent_uuid, ts_ms FROM agent_messages
                     WHERE session_id = ?1 AND seq <= ?3 ORDER BY seq",
                    params![f, t, upto],
                )?;
                c.execute(
                    "UPDATE agent_sessions SET last_message_ms =
                        (SELECT max(ts_ms) FROM agent_messages WHERE session_id = ?1) WHERE id = ?1",
                    [t],
                )
            })
            .await?;
        Ok(())
    }

    /// Full-text search over one instance's transcripts: every term is a
    /// quoted prefix term, so FTS5 syntax typed by the user stays text.
    pub async fn search(&self, instance_id: &str, q: &str, limit: i64) -> Result<Vec<SearchHit>> {
        self.instance(instance_id).await?;
        let terms: Vec<String> = q
            .split_whitespace()
            .take(16)
            .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
            .collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let query = terms.join(" ");
        let iid = instance_id.to_owned();
        let limit = limit.clamp(1, 200);
        Ok(self
            .catalog
            .read(move |c| {
                let mut st = c.prepare(
                    "SELECT m.session_id, s.title, m.seq, m.role, m.kind,
                        snippet(agent_messages_fts, 0, '[', ']', '…', 12), m.ts_ms
                     FROM agent_messages_fts f
                     JOIN agent_messages m ON m.id = f.rowid
                     JOIN agent_sessions s ON s.id = m.session_id
                     WHERE agent_messages_fts MATCH ?1 AND s.instance_id = ?2
                     ORDER BY rank LIMIT ?3",
                )?;
                st.query_map(params![query, iid, limit], |r| {
                    Ok(SearchHit {
                        session_id: r.get(0)?,
                        session_title: r.get(1)?,
                        seq: r.get(2)?,
                        role: r.get(3)?,
                        kind: r.get(4)?,
                        snippet: r.get(5)?,
                        ts_ms: r.get(6)?,
                    })
                })?
                .collect()
            })
            .await?)
    }
}
