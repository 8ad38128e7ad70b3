-- Video enrichment (issue 21): TMDB matches and the owner's overrides per
-- file, probed track lists per content hash, and resume points.

-- The last TMDB lookup for a file, from its parsed name.
CREATE TABLE media_video_meta (
    vault_id     TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    status       TEXT NOT NULL,            -- 'matched' | 'no_match' | 'no_key' | 'error'
    parsed_title TEXT NOT NULL,
    parsed_year  INTEGER,
    media_type   TEXT,                     -- 'movie' | 'tv'
    tmdb_id      INTEGER,
    title        TEXT,
    year         INTEGER,
    plot         TEXT,
    poster_path  TEXT,
    message      TEXT,
    looked_up_ms INTEGER NOT NULL,
    PRIMARY KEY (vault_id, path)
) STRICT;
CREATE INDEX media_video_meta_by_status ON media_video_meta (status);

-- The owner's choice (`PUT video-meta`): a TMDB id (its details stored) or
-- a manual title/year/plot. Wins over lookups and survives them.
CREATE TABLE media_video_overrides (
    vault_id    TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    tmdb_id     INTEGER,
    media_type  TEXT,
    title       TEXT NOT NULL,
    year        INTEGER,
    plot        TEXT,
    poster_path TEXT,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (vault_id, path)
) STRICT;

-- What ffprobe found in one content hash (JSON of `media::probe::Probed`).
CREATE TABLE media_video_tracks (
    content_hash TEXT PRIMARY KEY NOT NULL,
    probed       TEXT NOT NULL,
    probed_ms    INTEGER NOT NULL
) STRICT;

-- Where playback of a file stopped.
CREATE TABLE media_video_resume (
    vault_id    TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    position_ms INTEGER NOT NULL CHECK (position_ms >= 0),
    duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (vault_id, path)
) STRICT;
