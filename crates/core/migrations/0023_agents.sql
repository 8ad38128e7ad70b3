-- Coding-agent instances and their sessions (issue 22). An instance is one
-- agent program (Claude Code, OpenCode) with its own config dir under the
-- data dir; a session is one conversation it runs in a workspace folder.
-- Transcripts are the daemon's own record of what the agent streamed.

CREATE TABLE agent_instances (
    id            TEXT PRIMARY KEY NOT NULL,
    type          TEXT NOT NULL,                -- 'claude' | 'opencode'
    name          TEXT NOT NULL,
    defaults      TEXT NOT NULL DEFAULT '{}',   -- JSON: model, system_prompt, permission_mode
    -- Remote instances (hosted by another node of the mesh): where, which,
    -- and the access key sealed under the identity.
    remote_peer   TEXT,
    remote_id     TEXT,
    remote_addrs  TEXT,                          -- JSON array of multiaddrs
    remote_key    BLOB,
    -- The access key other devices present (share URL), sealed.
    access_key    BLOB,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
) STRICT;

-- LLM provider API keys, sealed under the identity (aad: instance id and
-- provider), handed to the agent only in its environment.
CREATE TABLE agent_providers (
    instance_id  TEXT NOT NULL REFERENCES agent_instances(id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    sealed_key   BLOB NOT NULL,
    key_hint     TEXT NOT NULL,                  -- last four characters
    base_url     TEXT,
    updated_ms   INTEGER NOT NULL,
    PRIMARY KEY (instance_id, provider)
) STRICT;

CREATE TABLE agent_mcp_servers (
    instance_id  TEXT NOT NULL REFERENCES agent_instances(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    config       TEXT NOT NULL,                  -- JSON: command/args or url; env/headers values sealed apart
    sealed_env   BLOB,                           -- JSON object of env + headers, sealed
    oauth_token  BLOB,                           -- sealed, when an OAuth flow left one
    created_ms   INTEGER NOT NULL,
    PRIMARY KEY (instance_id, name)
) STRICT;

CREATE TABLE agent_workspaces (
    instance_id  TEXT NOT NULL REFERENCES agent_instances(id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    name         TEXT NOT NULL,
    added_ms     INTEGER NOT NULL,
    PRIMARY KEY (instance_id, path)
) STRICT;

CREATE TABLE agent_sessions (
    id               TEXT PRIMARY KEY NOT NULL,
    instance_id      TEXT NOT NULL REFERENCES agent_instances(id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    workspace        TEXT,
    status           TEXT NOT NULL,             -- idle | running | waiting | stopped | error
    archived         INTEGER NOT NULL DEFAULT 0,
    model            TEXT,
    system_prompt    TEXT,
    permission_mode  TEXT NOT NULL DEFAULT 'default',
    agent_session    TEXT,                      -- the agent program's own session id
    forked_from      TEXT,                      -- JSON {"session_id","seq"}
    error            TEXT,
    cost_usd         REAL NOT NULL DEFAULT 0,
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL,
    last_message_ms  INTEGER
) STRICT;
CREATE INDEX agent_sessions_by_instance ON agent_sessions(instance_id, updated_ms);

CREATE TABLE agent_messages (
    id           INTEGER PRIMARY KEY,           -- the FTS rowid (stable across VACUUM)
    session_id   TEXT NOT NULL REFERENCES agent_sessions(id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    role         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    text         TEXT NOT NULL,
    tool         TEXT,                          -- JSON {"id","name","input"} / {"id","is_error"}
    agent_uuid   TEXT,                          -- the agent's own message id (fork points)
    ts_ms        INTEGER NOT NULL,
    UNIQUE (session_id, seq)
) STRICT;

-- Transcript search. External content: rows are the messages' rowids.
CREATE VIRTUAL TABLE agent_messages_fts USING fts5(
    text, content='agent_messages', content_rowid='id', tokenize='unicode61'
);
CREATE TRIGGER agent_messages_ai AFTER INSERT ON agent_messages BEGIN
    INSERT INTO agent_messages_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER agent_messages_ad AFTER DELETE ON agent_messages BEGIN
    INSERT INTO agent_messages_fts(agent_messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

CREATE TABLE agent_attachments (
    id           TEXT PRIMARY KEY NOT NULL,
    instance_id  TEXT NOT NULL REFERENCES agent_instances(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    mime         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL
) STRICT;
