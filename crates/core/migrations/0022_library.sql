-- Library views (media::library): the song list sorted by title, its
-- default, pages through an index instead of sorting every track.
CREATE INDEX media_files_by_title ON media_files (kind, title COLLATE NOCASE);
