-- An app is bound to its token once it has presented it: from then on its
-- client_id alone no longer proves it. Apps that have never presented a
-- token are identified as the IPC spec's clients are (client_id, Origin,
-- executable) and always prompt. `legacy` is no longer read. Apps that were
-- token-only before (not legacy, with a link) count as bound.
ALTER TABLE apps ADD COLUMN token_bound_ms INTEGER;
UPDATE apps SET token_bound_ms = created_ms
 WHERE legacy = 0 AND EXISTS (SELECT 1 FROM links WHERE links.client_id = apps.client_id);
