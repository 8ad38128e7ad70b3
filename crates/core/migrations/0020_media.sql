-- Media enrichment and the music library. Everything here but the owner's
-- overrides, prefs and play events is derived from file bytes and can be
-- rebuilt; it is keyed by content hash so a file is analysed once per hash.

-- Runtime settings the UI edits (`GET/PUT /settings`): enrichment API keys
-- and service base URLs. One row per key; absent = default.
CREATE TABLE runtime_settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;

-- What reading one content hash found: its tags (JSON object of the
-- fields in `media::tags::Tags`), its audio fingerprint, or why it failed.
CREATE TABLE media_analysis (
    content_hash   TEXT PRIMARY KEY NOT NULL,
    kind           TEXT NOT NULL,          -- 'audio' | 'video'
    tags           TEXT NOT NULL,          -- JSON object
    duration_ms    INTEGER,
    cover_hash     TEXT,                   -- media_covers.hash of the embedded picture
    fingerprint    TEXT,                   -- Chromaprint, compressed + base64url (AcoustID's form)
    fp_duration_s  INTEGER,                -- seconds of audio the fingerprint covers
    fp_error       TEXT,                   -- why there is no fingerprint, when there is none
    error          TEXT,                   -- why the tags could not be read
    analysed_ms    INTEGER NOT NULL
) STRICT;

-- Cover pictures, stored once per SHA-256 of their bytes.
CREATE TABLE media_covers (
    hash       TEXT PRIMARY KEY NOT NULL,  -- SHA-256 hex
    mime       TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;

-- AcoustID lookups, per content hash (the fingerprint's source).
CREATE TABLE media_acoustid (
    content_hash TEXT PRIMARY KEY NOT NULL,
    status       TEXT NOT NULL,            -- 'matched' | 'no_match' | 'no_key' | 'error'
    result       TEXT,                     -- JSON: the best match, when matched
    message      TEXT,
    looked_up_ms INTEGER NOT NULL
) STRICT;

-- The owner's manual overrides of a file's tags (`PUT meta`): they win over
-- tags and survive rescans and new versions of the file.
CREATE TABLE media_overrides (
    vault_id   TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    fields     TEXT NOT NULL,              -- JSON object
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (vault_id, path)
) STRICT;

-- Sidecar files found next to a media file by `refresh-folder`.
CREATE TABLE media_sidecars (
    vault_id     TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    path         TEXT NOT NULL,            -- the media file
    sidecar_path TEXT NOT NULL,
    kind         TEXT NOT NULL,            -- 'nfo' | 'cover' | 'subtitle'
    lang         TEXT,                     -- subtitles: from the name (movie.en.srt)
    info         TEXT,                     -- nfo: parsed fields, JSON
    PRIMARY KEY (vault_id, path, sidecar_path)
) STRICT;
CREATE INDEX media_sidecars_by_sidecar ON media_sidecars (vault_id, sidecar_path);

-- The library: one row per live audio or video file of a trusted vault,
-- with its effective fields (overrides, then tags, then the file name),
-- denormalised so library views are single queries.
CREATE TABLE media_files (
    vault_id     TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    file_id      TEXT NOT NULL,            -- stable id of (vault, path)
    kind         TEXT NOT NULL,            -- 'audio' | 'video'
    content_hash TEXT NOT NULL,
    size         INTEGER NOT NULL,
    local        INTEGER NOT NULL,         -- 1 when this node holds every block
    status       TEXT NOT NULL,            -- 'pending' | 'ready' | 'error' | 'remote'
    title        TEXT NOT NULL,
    artist       TEXT NOT NULL,
    album_artist TEXT NOT NULL,
    album        TEXT NOT NULL,
    album_key    TEXT NOT NULL,
    track_no     INTEGER,
    disc_no      INTEGER,
    year         INTEGER,
    genre        TEXT NOT NULL,
    duration_ms  INTEGER,
    cover_hash   TEXT,
    updated_ms   INTEGER NOT NULL,
    PRIMARY KEY (vault_id, path)
) STRICT;
CREATE UNIQUE INDEX media_files_by_id ON media_files (vault_id, file_id);
CREATE INDEX media_files_by_hash ON media_files (content_hash);
CREATE INDEX media_files_by_album ON media_files (kind, album_key);
CREATE INDEX media_files_by_artist ON media_files (kind, artist COLLATE NOCASE);
CREATE INDEX media_files_by_album_artist ON media_files (kind, album_artist COLLATE NOCASE);
CREATE INDEX media_files_by_genre ON media_files (kind, genre COLLATE NOCASE);

-- Full-text search over the library (FTS5, external content).
CREATE VIRTUAL TABLE media_fts USING fts5 (
    title, artist, album, genre,
    content = 'media_files', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER media_files_ai AFTER INSERT ON media_files BEGIN
    INSERT INTO media_fts (rowid, title, artist, album, genre)
    VALUES (new.rowid, new.title, new.artist || ' ' || new.album_artist, new.album, new.genre);
END;
CREATE TRIGGER media_files_ad AFTER DELETE ON media_files BEGIN
    INSERT INTO media_fts (media_fts, rowid, title, artist, album, genre)
    VALUES ('delete', old.rowid, old.title, old.artist || ' ' || old.album_artist, old.album, old.genre);
END;
CREATE TRIGGER media_files_au AFTER UPDATE ON media_files BEGIN
    INSERT INTO media_fts (media_fts, rowid, title, artist, album, genre)
    VALUES ('delete', old.rowid, old.title, old.artist || ' ' || old.album_artist, old.album, old.genre);
    INSERT INTO media_fts (rowid, title, artist, album, genre)
    VALUES (new.rowid, new.title, new.artist || ' ' || new.album_artist, new.album, new.genre);
END;

-- Per-track prefs and play counts, keyed by the library's file id.
CREATE TABLE library_prefs (
    vault_id       TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    file_id        TEXT NOT NULL,
    rating         INTEGER,                -- 0-5
    skip           INTEGER NOT NULL DEFAULT 0, -- 1: leave out of shuffle and radio
    play_count     INTEGER NOT NULL DEFAULT 0,
    skip_count     INTEGER NOT NULL DEFAULT 0,
    last_played_ms INTEGER,
    updated_ms     INTEGER NOT NULL,
    PRIMARY KEY (vault_id, file_id)
) STRICT;

-- Play and skip events, newest kept (bounded by the library code).
CREATE TABLE play_events (
    id          INTEGER PRIMARY KEY,
    vault_id    TEXT NOT NULL,
    file_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,             -- 'play' | 'skip'
    position_ms INTEGER,
    ts_ms       INTEGER NOT NULL
) STRICT;
CREATE INDEX play_events_by_file ON play_events (vault_id, file_id, ts_ms);
