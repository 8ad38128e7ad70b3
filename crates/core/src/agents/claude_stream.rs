//! Claude Code's `--output-format stream-json` lines, read into transcript
//! messages. One JSON object per line: `system` (init and notices),
//! `assistant` (text, thinking, tool calls), `user` (tool results) and
//! `result` (the turn's end, with its cost). Lines we do not know are kept
//! out of the transcript rather than guessed at.

use serde_json::{Value, json};

use super::sessions::{NewMessage, clip};

/// What one line told us.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    /// The agent's own session id (from `system/init` and every line).
    pub agent_session: Option<String>,
    pub messages: Vec<NewMessage>,
    /// The turn ended (a `result` line): its cost and whether it failed.
    pub result: Option<TurnResult>,
}

#[derive(Debug, PartialEq)]
pub struct TurnResult {
    pub cost_usd: f64,
    pub error: Option<String>,
}

/// Longest tool preview.
const PREVIEW_CHARS: usize = 300;

/// A one-line, readable account of a tool call, for the transcript and for
/// the approval prompt (e.g. `$ cargo test`, `Write src/a.rs (120 bytes)`).
pub fn tool_preview(name: &str, input: &Value) -> String {
    let s = |k: &str| input.get(k).and_then(Value::as_str).unwrap_or("");
    let line = match name {
        "Bash" => format!("$ {}", s("command")),
        "Write" => format!("Write {} ({} bytes)", s("file_path"), s("content").len()),
        "Edit" | "MultiEdit" => format!("Edit {}", s("file_path")),
        "Read" => format!("Read {}", s("file_path")),
        "NotebookEdit" => format!("Edit notebook {}", s("notebook_path")),
        "Glob" | "Grep" => format!("{name} {}", s("pattern")),
        "WebFetch" => format!("Fetch {}", s("url")),
        "WebSearch" => format!("Search the web for {}", s("query")),
        "AskUserQuestion" => input
            .get("questions")
            .and_then(Value::as_array)
            .and_then(|q| q.first())
            .and_then(|q| q.get("question"))
            .and_then(Value::as_str)
            .map(|q| format!("Asks: {q}"))
            .unwrap_or_else(|| "Asks a question".into()),
        _ => format!("{name} {}", input),
    };
    let one_line: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(PREVIEW_CHARS)
        .collect();
    one_line
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn msg(
    role: &'static str,
    kind: &'static str,
    text: String,
    tool: Option<Value>,
    uuid: Option<&str>,
) -> NewMessage {
    NewMessage {
        role,
        kind,
        text,
        tool,
        agent_uuid: uuid.map(str::to_owned),
    }
}

/// Reads one line. Not JSON, or not an object: nothing.
pub fn parse_line(line: &str) -> Parsed {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return Parsed::default();
    };
    let mut out = Parsed {
        agent_session: v
            .get("session_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        ..Parsed::default()
    };
    let uuid = v.get("uuid").and_then(Value::as_str);
    match v.get("type").and_then(Value::as_str) {
        Some("system") => match v.get("subtype").and_then(Value::as_str) {
            Some("init") => {
                let model = v
                    .get("model")
                    .and_then(Value::as_str)
                    .unwrap_or("default model");
                let version = v
                    .get("claude_code_version")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                out.messages.push(msg(
                    "system",
                    "init",
                    format!("Claude Code {version} started ({model})").replace("  ", " "),
                    None,
                    uuid,
                ));
            }
            _ => {
                if let Some(m) = v.get("message").and_then(Value::as_str) {
                    out.messages
                        .push(msg("system", "notice", m.to_owned(), None, uuid));
                }
            }
        },
        Some("assistant") => {
            let blocks = v["message"]["content"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for b in blocks {
                match b.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let t = b["text"].as_str().unwrap_or("").to_owned();
                        if !t.trim().is_empty() {
                            out.messages.push(msg("assistant", "text", t, None, uuid));
                        }
                    }
                    Some("thinking") => {
                        let t = b["thinking"].as_str().unwrap_or("").to_owned();
                        if !t.trim().is_empty() {
                            out.messages
                                .push(msg("assistant", "thinking", t, None, uuid));
                        }
                    }
                    Some("tool_use") => {
                        let name = b["name"].as_str().unwrap_or("tool");
                        let input = b.get("input").cloned().unwrap_or(Value::Null);
                        out.messages.push(msg(
                            "assistant",
                            "tool_use",
                            tool_preview(name, &input),
                            Some(json!({"id": b["id"], "name": name, "input": input})),
                            uuid,
                        ));
                    }
                    _ => {}
                }
            }
        }
        Some("user") => {
            if let Some(blocks) = v["message"]["content"].as_array() {
                for b in blocks {
                    if b.get("type").and_then(Value::as_str) == Some("tool_result") {
                        let is_error = b.get("is_error").and_then(Value::as_bool).unwrap_or(false);
                        out.messages.push(msg(
                            "tool",
                            "tool_result",
                            text_of(b.get("content").unwrap_or(&Value::Null)),
                            Some(json!({"id": b["tool_use_id"], "is_error": is_error})),
                            uuid,
                        ));
                    }
                }
            }
        }
        Some("result") => {
            let cost = v
                .get("total_cost_usd")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            let is_error = v.get("is_error").and_then(Value::as_bool).unwrap_or(false)
                || v.get("subtype")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.starts_with("error"));
            let secs = v.get("duration_ms").and_then(Value::as_f64).unwrap_or(0.0) / 1000.0;
            let text = if is_error {
                let why = v
                    .get("result")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| v.get("subtype").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| "the agent reported an error".into());
                clip(why, 4096)
            } else {
                format!("Done in {secs:.1} s · ${cost:.4}")
            };
            out.messages.push(msg(
                "system",
                if is_error { "error" } else { "result" },
                text.clone(),
                None,
                uuid,
            ));
            out.result = Some(TurnResult {
                cost_usd: cost,
                error: is_error.then_some(text),
            });
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_init_text_tools_and_result() {
        let p = parse_line(
            r#"{"type":"system","subtype":"init","session_id":"abc","model":"m","claude_code_version":"2.1"}"#,
        );
        assert_eq!(p.agent_session.as_deref(), Some("abc"));
        assert_eq!(p.messages[0].kind, "init");
        let p = parse_line(
            r#"{"type":"assistant","uuid":"u1","session_id":"abc","message":{"content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls -la"}}]}}"#,
        );
        assert_eq!(p.messages.len(), 2);
        assert_eq!(p.messages[1].text, "$ ls -la");
        assert_eq!(p.messages[1].agent_uuid.as_deref(), Some("u1"));
        let p = parse_line(
            r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"out"}],"is_error":true}]}}"#,
        );
        assert_eq!(p.messages[0].text, "out");
        assert_eq!(p.messages[0].tool.as_ref().unwrap()["is_error"], true);
        let p = parse_line(
            r#"{"type":"result","subtype":"success","total_cost_usd":0.5,"duration_ms":1500}"#,
        );
        assert_eq!(
            p.result,
            Some(TurnResult {
                cost_usd: 0.5,
                error: None
            })
        );
        let p =
            parse_line(r#"{"type":"result","subtype":"error_during_execution","is_error":true}"#);
        assert!(p.result.unwrap().error.is_some());
    }

    #[test]
    fn junk_and_unknown_lines_add_nothing() {
        assert_eq!(parse_line("not json"), Parsed::default());
        assert!(parse_line(r#"{"type":"stream_event"}"#).messages.is_empty());
        assert!(parse_line("[1,2]").messages.is_empty());
    }

    #[test]
    fn previews_are_one_bounded_line() {
        let p = tool_preview("Bash", &json!({"command": "echo a\nrm -rf x"}));
        assert!(!p.contains('\n'));
        let long = tool_preview("X", &json!({"a": "y".repeat(5000)}));
        assert!(long.chars().count() <= PREVIEW_CHARS);
    }
}
