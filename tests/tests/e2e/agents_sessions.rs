//! Coding-agent sessions driven through the REST API with the real Claude
//! Code program against a stand-in model API: turns, the live stream, tool
//! calls approved and denied in the one approvals queue, a question, the
//! workspace's files, search, fork with the agent's context, stop mid-run
//! with no process left behind, archive and delete. Without the program
//! (npm unavailable) the tests say so and skip.

use serde_json::{Value, json};

use crate::agents_support::{
    agent_node, claude_bin_dir, keyed_instance, processes_with, stand_in, texts, transcript,
    wait_approval, wait_status,
};
use crate::events::read_until;
use crate::harness::{TestDaemon, assert_error, eventually};

const KEY: &str = "sk-ant-test-0123456789abcdefSECRET";

#[tokio::test]
async fn a_whole_session_with_approvals_search_and_fork() {
    let Some(bin) = claude_bin_dir().await else {
        return;
    };
    let model = stand_in().await;
    let (d, t) = agent_node(&bin).await;
    let ws = tempfile::tempdir().unwrap();
    let id = keyed_instance(&d, &t, &model, KEY, ws.path()).await;
    let workspace = std::fs::canonicalize(ws.path()).unwrap();

    // A session with a first prompt starts at once; its live stream shows
    // the user's turn, the agent's answer and the status going back to idle.
    let r = d
        .post_auth(
            &format!("/instances/{id}/sessions"),
            &t,
            json!({"title": "First", "workspace": workspace.to_str().unwrap(), "prompt": "Say hello ALPHA"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let s: Value = r.json().await.unwrap();
    let sid = s["id"].as_str().unwrap().to_owned();
    assert_eq!(s["instance_id"], id.as_str());
    let mut sse = d.get(&format!("/sessions/{sid}/events?token={t}")).await;
    assert_eq!(sse.status(), 200);
    read_until(&mut sse, "event: status").await;
    let s = wait_status(&d, &t, &sid, &["idle", "error"]).await;
    assert_eq!(s["status"], "idle", "{s}");
    let msgs = transcript(&d, &t, &sid).await;
    let all = texts(&msgs);
    assert_eq!(msgs[0]["role"], "user", "{all}");
    assert!(all.contains("Hello from the stand-in: ALPHA"), "{all}");
    assert!(msgs.iter().any(|m| m["kind"] == "result"), "{all}");
    // The provider key reached the model API only through the agent.
    let seen = model.seen.all();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|(k, _)| k.as_deref() == Some(KEY)));
    let log = eventually("the daemon log", || async {
        std::fs::read_to_string(d.data_dir().join("daemon-stderr.log")).ok()
    })
    .await;
    assert!(!log.is_empty());
    assert!(!log.contains(KEY), "the provider key reached the log");

    // A tool call that needs approval: in the session and in the one queue,
    // with a readable preview; allowed, the agent writes the file.
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/messages"),
            &t,
            json!({"text": "Please WRITE_FILE now"}),
        )
        .await;
    assert_eq!(r.status(), 202);
    // A second turn while one runs is refused.
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/messages"),
            &t,
            json!({"text": "again"}),
        )
        .await;
    assert_error(r, 409).await;
    let a = wait_approval(&d, &t, &sid).await;
    assert_eq!(a["kind"], "tool_call");
    assert_eq!(a["tool_name"], "Write");
    assert!(a["preview"].as_str().unwrap().contains("hello.txt"), "{a}");
    let queue = d.get_json("/approvals", &t).await;
    let q = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == a["id"])
        .expect("the tool call is in the one approvals queue")
        .clone();
    assert_eq!(q["kind"], "tool_call");
    assert_eq!(q["requester"]["app_name"], "Test Claude");
    assert_eq!(
        d.get_json(&format!("/sessions/{sid}"), &t).await["status"],
        "waiting"
    );
    read_until(&mut sse, "event: approval").await;
    let aid = a["id"].as_str().unwrap();
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/approvals/{aid}"),
            &t,
            json!({"decision": "maybe"}),
        )
        .await;
    assert_error(r, 400).await;
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/approvals/{aid}"),
            &t,
            json!({"decision": "allow"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let s = wait_status(&d, &t, &sid, &["idle", "error"]).await;
    assert_eq!(s["status"], "idle", "{s}");
    assert_eq!(
        std::fs::read_to_string(workspace.join("hello.txt")).unwrap(),
        "hello from the agent\n"
    );
    let all = texts(&transcript(&d, &t, &sid).await);
    assert!(all.contains("tool_use: Write"), "{all}");
    assert!(all.contains("The tool said:"), "{all}");

    // The workspace's files: listed, and downloadable with ?token=.
    let files = d.get_json(&format!("/sessions/{sid}/files"), &t).await;
    assert!(
        files["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "hello.txt"),
        "{files}"
    );
    let r = d
        .get(&format!("/sessions/{sid}/files?path=hello.txt&token={t}"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(r.text().await.unwrap(), "hello from the agent\n");
    for bad in ["../x", "/etc/passwd", "a/../../b"] {
        let r = d
            .get_auth(&format!("/sessions/{sid}/files?path={bad}"), &t)
            .await;
        assert!(
            r.status() == 400 || r.status() == 404,
            "{bad}: {}",
            r.status()
        );
    }

    // Denied, with a message: the agent is told, and writes nothing.
    std::fs::remove_file(workspace.join("hello.txt")).unwrap();
    d.post_auth(
        &format!("/sessions/{sid}/messages"),
        &t,
        json!({"text": "WRITE_FILE once more"}),
    )
    .await;
    let a = wait_approval(&d, &t, &sid).await;
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/approvals/{}", a["id"].as_str().unwrap()),
            &t,
            json!({"decision": "deny", "message": "Not in this folder"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    wait_status(&d, &t, &sid, &["idle", "error"]).await;
    assert!(!workspace.join("hello.txt").exists());
    let msgs = transcript(&d, &t, &sid).await;
    assert!(
        msgs.iter().any(|m| m["kind"] == "tool_result"
            && m["tool"]["is_error"] == true
            && m["text"].as_str().unwrap().contains("Not in this folder")),
        "{}",
        texts(&msgs)
    );

    // A question: answered with one of its options, which reaches the agent.
    d.post_auth(
        &format!("/sessions/{sid}/messages"),
        &t,
        json!({"text": "ASK_QUESTION please"}),
    )
    .await;
    let qa = wait_approval(&d, &t, &sid).await;
    assert_eq!(qa["kind"], "question", "{qa}");
    assert_eq!(qa["questions"][0]["question"], "Which colour?");
    let qid = qa["id"].as_str().unwrap();
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/questions/{qid}/reply"),
            &t,
            json!({"answers": {"Nope?": "x"}}),
        )
        .await;
    assert_error(r, 400).await;
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/questions/{qid}/reply"),
            &t,
            json!({"answers": {"Which colour?": "Blue"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    wait_status(&d, &t, &sid, &["idle", "error"]).await;
    let last = model.seen.turns().last().cloned().unwrap();
    assert!(
        last.to_string().contains("Blue"),
        "the answer did not reach the agent"
    );

    // Search finds transcript text across the instance's sessions.
    let hits = d
        .get_json(&format!("/instances/{id}/search?q=alph"), &t)
        .await;
    let hits = hits["results"].as_array().unwrap();
    assert!(
        hits.iter().any(|h| h["session_id"] == sid.as_str()),
        "{hits:?}"
    );

    // Fork after the first answer: the fork's transcript stops there, and
    // so does the agent's context (the stand-in sees ALPHA, not the rest).
    let msgs = transcript(&d, &t, &sid).await;
    let first_answer = msgs
        .iter()
        .find(|m| m["text"].as_str().unwrap().contains("ALPHA") && m["role"] == "assistant")
        .unwrap()["seq"]
        .as_i64()
        .unwrap();
    let r = d
        .post_auth(&format!("/sessions/{sid}/fork"), &t, json!({"seq": 9999}))
        .await;
    assert_error(r, 400).await;
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/fork"),
            &t,
            json!({"seq": first_answer}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let fork: Value = r.json().await.unwrap();
    let fid = fork["id"].as_str().unwrap().to_owned();
    assert_eq!(fork["forked_from"]["session_id"], sid.as_str());
    assert_eq!(fork["message_count"], first_answer);
    d.post_auth(
        &format!("/sessions/{fid}/messages"),
        &t,
        json!({"text": "Continue CHARLIE"}),
    )
    .await;
    let s = wait_status(&d, &t, &fid, &["idle", "error"]).await;
    assert_eq!(s["status"], "idle", "{s}");
    let last = model.seen.turns().last().cloned().unwrap().to_string();
    assert!(
        last.contains("ALPHA") && last.contains("CHARLIE"),
        "fork lost its context"
    );
    assert!(
        !last.contains("WRITE_FILE"),
        "fork kept what came after its point"
    );
    // The original goes on untouched.
    assert!(transcript(&d, &t, &sid).await.len() > first_answer as usize);

    // Archive hides it from the list; unarchive shows it again.
    let r = d
        .post_auth(&format!("/sessions/{fid}/archive"), &t, json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let list = d.get_json(&format!("/instances/{id}/sessions"), &t).await;
    assert!(
        !list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == fid.as_str())
    );
    let list = d
        .get_json(&format!("/instances/{id}/sessions?archived=true"), &t)
        .await;
    assert!(
        list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == fid.as_str())
    );
    d.post_auth(&format!("/sessions/{fid}/unarchive"), &t, json!({}))
        .await;

    // Per-session settings.
    let r = d
        .patch_auth(
            &format!("/sessions/{fid}/settings"),
            &t,
            json!({"model": "claude-stand-in-2", "permission_mode": "acceptEdits"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["model"], "claude-stand-in-2");
    let r = d
        .patch_auth(
            &format!("/sessions/{fid}/settings"),
            &t,
            json!({"permission_mode": "yolo"}),
        )
        .await;
    assert_error(r, 400).await;

    // Delete drops it entirely.
    let r = d.delete_auth(&format!("/sessions/{fid}"), &t).await;
    assert_eq!(r.status(), 204);
    assert_error(d.get_auth(&format!("/sessions/{fid}"), &t).await, 404).await;
}

#[tokio::test]
async fn stop_ends_the_agent_and_everything_it_started() {
    let Some(bin) = claude_bin_dir().await else {
        return;
    };
    let model = stand_in().await;
    let (d, t) = agent_node(&bin).await;
    let ws = tempfile::tempdir().unwrap();
    let id = keyed_instance(&d, &t, &model, KEY, ws.path()).await;
    let marker = format!("HF{}", std::process::id());
    let r = d
        .post_auth(
            &format!("/instances/{id}/sessions"),
            &t,
            json!({"workspace": std::fs::canonicalize(ws.path()).unwrap().to_str().unwrap(),
                "prompt": format!("RUN_SLEEP {marker}")}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let sid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = wait_approval(&d, &t, &sid).await;
    assert_eq!(a["tool_name"], "Bash");
    assert!(
        a["preview"].as_str().unwrap().starts_with("$ tail -f"),
        "{a}"
    );
    d.post_auth(
        &format!("/sessions/{sid}/approvals/{}", a["id"].as_str().unwrap()),
        &t,
        json!({"decision": "allow"}),
    )
    .await;
    // The command runs (a shell with the marker), the agent waits on it.
    eventually("the agent's shell to run", || async {
        (!processes_with(&marker).is_empty()).then_some(())
    })
    .await;
    assert!(
        !processes_with(&sid).is_empty(),
        "the agent runs with its session's config"
    );
    let r = d
        .post_auth(&format!("/sessions/{sid}/stop"), &t, json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["status"], "stopped", "{s}");
    // Nothing the session started is left: not the agent, not its shell.
    eventually("every process of the session to end", || async {
        (processes_with(&marker).is_empty() && processes_with(&sid).is_empty()).then_some(())
    })
    .await;
    let msgs = transcript(&d, &t, &sid).await;
    assert!(msgs.iter().any(|m| m["text"] == "Stopped by the owner"));

    // Resume: the stopped session takes a new turn with its context.
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/resume"),
            &t,
            json!({"text": "Back again DELTA"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let s = wait_status(&d, &t, &sid, &["idle", "error"]).await;
    assert_eq!(s["status"], "idle", "{s}");
    let last = model.seen.turns().last().cloned().unwrap().to_string();
    assert!(
        last.contains("DELTA") && last.contains(&marker),
        "resume lost the context"
    );

    // Locked, the provider key cannot be unsealed: a new turn is refused
    // in the error shape, and nothing is started or written.
    let turns = model.seen.turns().len();
    let before = transcript(&d, &t, &sid).await.len();
    assert_eq!(
        d.post_auth("/identity/lock", &t, json!({})).await.status(),
        204
    );
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/messages"),
            &t,
            json!({"text": "While locked"}),
        )
        .await;
    let msg = assert_error(r, 403).await;
    assert!(msg.contains("locked"), "{msg}");
    assert_eq!(transcript(&d, &t, &sid).await.len(), before);
    assert_eq!(model.seen.turns().len(), turns);
    let s = d.get_json(&format!("/sessions/{sid}"), &t).await;
    assert_eq!(s["status"], "idle", "{s}");
}

#[tokio::test]
async fn sessions_refuse_bad_input_in_the_error_shape() {
    // No agent program needed: these never start one.
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let r = d
        .post_auth("/instances", &t, json!({"type": "claude", "name": "C"}))
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sessions = format!("/instances/{id}/sessions");
    for body in [
        json!({"title": ""}),
        json!({"workspace": "/not/registered"}),
        json!({"permission_mode": "everything"}),
        json!({"model": "has spaces in it"}),
        json!({"surprise": 1}),
    ] {
        let r = d.post_auth(&sessions, &t, body.clone()).await;
        assert_error(r, 400).await;
    }
    assert_error(
        d.get_auth(&format!("{sessions}?archived=maybe"), &t).await,
        400,
    )
    .await;
    assert_error(d.get_auth("/instances/ai_nope/sessions", &t).await, 404).await;
    assert_error(d.get_auth("/sessions/as_0000/transcript", &t).await, 404).await;
    let r = d.post_auth(&sessions, &t, json!({"title": "Plain"})).await;
    assert_eq!(r.status(), 201);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["status"], "idle");
    assert_eq!(s["permission_mode"], "default");
    let sid = s["id"].as_str().unwrap();
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/messages"),
            &t,
            json!({"text": ""}),
        )
        .await;
    assert_error(r, 400).await;
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/messages"),
            &t,
            json!({"text": "hi", "attachments": ["at_x"]}),
        )
        .await;
    assert_error(r, 400).await;
    assert_error(
        d.post_auth(&format!("/sessions/{sid}/fork"), &t, json!({}))
            .await,
        400,
    )
    .await;
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/approvals/0123"),
            &t,
            json!({"decision": "allow"}),
        )
        .await;
    assert_error(r, 404).await;
    let r = d
        .post_auth(
            &format!("/sessions/{sid}/questions/0123/reject"),
            &t,
            json!({}),
        )
        .await;
    assert_error(r, 404).await;
    // The transcript is empty, the file list too, and the stream opens.
    let v = d.get_json(&format!("/sessions/{sid}/transcript"), &t).await;
    assert_eq!(v["total"], 0);
    let v = d.get_json(&format!("/sessions/{sid}/files"), &t).await;
    assert_eq!(v["files"], json!([]));
    // The approval hook is not for clients: a wrong secret is refused.
    let r = reqwest::Client::new()
        .post(d.url(&format!("/_mcp/sessions/{sid}/approve")))
        .header("x-holdfast-session-secret", "guess")
        .json(&json!({"tool_name": "Bash", "input": {"command": "rm -rf /"}}))
        .send()
        .await
        .unwrap();
    assert_error(r, 403).await;
    assert!(
        d.get_json("/approvals", &t)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
}
