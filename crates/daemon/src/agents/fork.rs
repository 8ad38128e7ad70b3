//! Forking a session at a transcript point. The new session gets the
//! transcript up to that message, and the agent its own context up to the
//! same point: Claude Code keeps each session as JSON Lines under its config
//! dir (`projects/<folder>/<session id>.jsonl`, one record per line with a
//! `uuid`), so the fork is a copy of that file cut after the record the
//! chosen message came from, under a new session id. A tool call is never
//! cut from its result (the model API refuses a dangling call).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use holdfast_core::agents::{AgentStore, AgentType, AgentsError, NewMessage, NewSession, Session};
use holdfast_core::fsutil::{self, Mode};
use serde_json::{Value, json};

/// Longest agent session file copied (bigger ones fork without context).
const MAX_FILE: u64 = 256 * 1024 * 1024;

pub async fn fork(
    store: &AgentStore,
    src: &Session,
    upto: i64,
    title: &str,
) -> Result<Session, AgentsError> {
    let instance = store.instance(&src.instance_id).await?;
    let workspace = src
        .workspace
        .clone()
        .filter(|w| instance.workspaces.iter().any(|ws| &ws.path == w));
    let new = store
        .create_session(
            &src.instance_id,
            NewSession {
                title: Some(title.to_owned()),
                workspace,
                model: src.model.clone(),
                system_prompt: src.system_prompt.clone(),
                permission_mode: Some(src.permission_mode.clone()),
                forked_from: Some(json!({"session_id": src.id, "seq": upto})),
            },
        )
        .await?;
    store.copy_transcript(&src.id, &new.id, upto).await?;
    let (kept, _) = store.transcript(&new.id, 0, 5000).await?;
    let point = kept.iter().rev().find_map(|m| m.agent_uuid.clone());
    let copied = match (instance.kind, &src.agent_session, point) {
        (AgentType::Claude, Some(agent), Some(point)) => {
            let dir = store.config_dir(&instance.id).join("projects");
            let (agent, point) = (agent.clone(), point.clone());
            tokio::task::spawn_blocking(move || copy_claude_session(&dir, &agent, &point))
                .await
                .ok()
                .flatten()
        }
        _ => None,
    };
    match copied {
        Some(id) => store.set_agent_session(&new.id, &id).await?,
        None if src.agent_session.is_some() => {
            store
                .append(
                    &new.id,
                    vec![NewMessage {
                        role: "system",
                        kind: "notice",
                        text: "The agent's own context could not be copied to this fork: its next turn starts without the earlier conversation.".into(),
                        tool: None,
                        agent_uuid: None,
                    }],
                )
                .await?;
        }
        None => {}
    }
    store.session(&new.id).await
}

/// Finds `<id>.jsonl` in the project folders under `projects`.
fn find_session_file(projects: &Path, id: &str) -> Option<PathBuf> {
    let name = format!("{id}.jsonl");
    std::fs::read_dir(projects)
        .ok()?
        .flatten()
        .map(|e| e.path().join(&name))
        .find(|p| p.is_file())
}

fn tool_ids(record: &Value, kind: &str, field: &str) -> Vec<String> {
    record["message"]["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b["type"] == kind)
                .filter_map(|b| b[field].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Writes the cut copy; returns the new agent session id.
fn copy_claude_session(projects: &Path, agent: &str, point: &str) -> Option<String> {
    let file = find_session_file(projects, agent)?;
    if std::fs::metadata(&file).ok()?.len() > MAX_FILE {
        return None;
    }
    let text = std::fs::read_to_string(&file).ok()?;
    let records: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    let cut = records.iter().rposition(|r| r["uuid"] == point)?;
    let mut end = cut + 1;
    let open_calls = |upto: usize| -> bool {
        let uses: HashSet<String> = records[..upto]
            .iter()
            .flat_map(|r| tool_ids(r, "tool_use", "id"))
            .collect();
        let results: HashSet<String> = records[..upto]
            .iter()
            .flat_map(|r| tool_ids(r, "tool_result", "tool_use_id"))
            .collect();
        uses.difference(&results).next().is_some()
    };
    while end < records.len() && open_calls(end) {
        end += 1;
    }
    let new_id = uuid::Uuid::new_v4().to_string();
    let mut out = String::new();
    for r in &records[..end] {
        if r.is_null() {
            continue;
        }
        let mut r = r.clone();
        if r.get("sessionId").is_some() {
            r["sessionId"] = json!(new_id);
        }
        out.push_str(&r.to_string());
        out.push('\n');
    }
    let dest = file.with_file_name(format!("{new_id}.jsonl"));
    fsutil::write_atomic(&dest, out.as_bytes(), Mode::Private).ok()?;
    Some(new_id)
}
