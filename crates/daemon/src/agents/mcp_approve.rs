//! `holdfast _mcp-approve`: the MCP server (stdio, JSON-RPC 2.0, one
//! message per line) the daemon hands to each agent run as its permission
//! prompt tool. It offers one tool, `approve`; each call goes to the
//! daemon's loopback hook `POST /api/v1/_mcp/sessions/{sid}/approve` with
//! the run's secret, waits for the owner's answer in the approvals queue and
//! gives the agent the verdict it expects (`{"behavior":"allow"|"deny",…}`).
//! The daemon passes the hook's address, the session and the secret in the
//! environment (`HOLDFAST_MCP_URL`, `HOLDFAST_MCP_SESSION`,
//! `HOLDFAST_MCP_SECRET`, and `HOLDFAST_MCP_CA` when the API is HTTPS).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

/// The MCP protocol revision spoken when the client asks for none we know.
const PROTOCOL: &str = "2025-06-18";
/// How long one approval may wait for the owner (the daemon's own deadline
/// answers first).
const WAIT: Duration = Duration::from_secs(3600);
/// Longest JSON-RPC line accepted from the agent.
const MAX_LINE: usize = 4 * 1024 * 1024;

struct Hook {
    client: reqwest::Client,
    url: String,
    secret: String,
}

/// Runs until stdin closes (the agent ended).
pub async fn run() -> anyhow::Result<()> {
    crate::tls::install_crypto_provider();
    let base = std::env::var("HOLDFAST_MCP_URL")?;
    let sid = std::env::var("HOLDFAST_MCP_SESSION")?;
    let secret = std::env::var("HOLDFAST_MCP_SECRET")?;
    let mut client = reqwest::Client::builder()
        .timeout(WAIT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if let Ok(ca) = std::env::var("HOLDFAST_MCP_CA") {
        let pem = std::fs::read(ca)?;
        client = client.add_root_certificate(reqwest::Certificate::from_pem(&pem)?);
    }
    let hook = Arc::new(Hook {
        client: client.build()?,
        url: format!("{}/_mcp/sessions/{sid}/approve", base.trim_end_matches('/')),
        secret,
    });
    let out = Arc::new(Mutex::new(tokio::io::stdout()));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        if line.len() > MAX_LINE || line.trim().is_empty() {
            continue;
        }
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            write(
                &out,
                json!({"jsonrpc": "2.0", "id": null,
                "error": {"code": -32700, "message": "parse error"}}),
            )
            .await;
            continue;
        };
        // Notifications (no id) need no answer.
        let Some(id) = msg.get("id").cloned() else {
            continue;
        };
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        match method {
            "tools/call" => {
                // Approvals wait for a person: answer them concurrently.
                let (hook, out) = (hook.clone(), out.clone());
                tokio::spawn(async move {
                    let reply = call(&hook, &params).await;
                    write(&out, json!({"jsonrpc": "2.0", "id": id, "result": reply})).await;
                });
            }
            _ => {
                let reply = match method {
                    "initialize" => Ok(json!({
                        "protocolVersion": params.get("protocolVersion").and_then(Value::as_str).unwrap_or(PROTOCOL),
                        "capabilities": {"tools": {}},
                        "serverInfo": {"name": "holdfast", "version": env!("CARGO_PKG_VERSION")},
                    })),
                    "ping" => Ok(json!({})),
                    "tools/list" => Ok(json!({"tools": [tool()]})),
                    _ => Err(
                        json!({"code": -32601, "message": format!("method not found: {method}")}),
                    ),
                };
                let msg = match reply {
                    Ok(r) => json!({"jsonrpc": "2.0", "id": id, "result": r}),
                    Err(e) => json!({"jsonrpc": "2.0", "id": id, "error": e}),
                };
                write(&out, msg).await;
            }
        }
    }
    Ok(())
}

fn tool() -> Value {
    json!({
        "name": "approve",
        "description": "Asks the owner, through Holdfast's approvals queue, whether a tool call may run.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "tool_name": {"type": "string"},
                "input": {"type": "object"},
                "tool_use_id": {"type": "string"}
            },
            "required": ["tool_name", "input"]
        }
    })
}

/// One approval: the daemon's verdict as the tool's text result. Failing to
/// reach the daemon denies (never allows) and says why.
async fn call(hook: &Hook, params: &Value) -> Value {
    let args = params.get("arguments").cloned().unwrap_or(Value::Null);
    let verdict = async {
        let resp = hook
            .client
            .post(&hook.url)
            .header("X-Holdfast-Session-Secret", &hook.secret)
            .json(&args)
            .send()
            .await
            .map_err(|e| format!("Holdfast could not be reached: {e}"))?;
        let status = resp.status();
        let body: Value = resp
            .json()
            .await
            .map_err(|_| format!("Holdfast answered {status} without a verdict"))?;
        if !status.is_success() {
            return Err(body
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("refused")
                .to_owned());
        }
        Ok(body)
    }
    .await
    .unwrap_or_else(|why| json!({"behavior": "deny", "message": why}));
    json!({"content": [{"type": "text", "text": verdict.to_string()}]})
}

async fn write(out: &Mutex<tokio::io::Stdout>, msg: Value) {
    let mut line = msg.to_string();
    line.push('\n');
    let mut out = out.lock().await;
    let _ = out.write_all(line.as_bytes()).await;
    let _ = out.flush().await;
}

/// Entry point for binaries other than `holdfast` (the desktop app runs the
/// daemon in-process, so agents get the desktop binary as their helper).
pub fn main_blocking() -> std::process::ExitCode {
    match crate::cli::client_block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("holdfast _mcp-approve: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
