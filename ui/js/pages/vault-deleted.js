// The Deleted files view of a vault page: files whose newest version is a
// tombstone (GET /files?include_deleted=1), newest deletion first, each
// with Restore (the content it had before it was deleted comes back as a
// new version). Old versions and tombstones last the vault's retention.

import { api, encodePath } from '../api.js';
import { h, busy } from '../dom.js';
import { notify } from '../alerts.js';
import { inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';

/** opts: { vaultId, onRestored() }. Returns { element, show(files, caps, retentionDays) }. */
export function deletedList(opts) {
  const vid = encodeURIComponent(opts.vaultId);
  const note = h('p', { class: 'muted small' });
  const rows = h('ul', { class: 'rows deleted-files', 'aria-label': 'Deleted files' });
  const emptyNote = h('p', { class: 'empty', text: 'Nothing has been deleted from this vault.' });
  const element = h('div', { id: 'deleted-view', class: 'deleted-view' }, note, rows, emptyNote);

  function row(f, caps) {
    const restore = h('button', { type: 'button', 'data-action': 'restore', text: 'Restore',
      'aria-label': `Restore ${fmt.baseName(f.path)}` });
    restore.addEventListener('click', () => busy(restore, async () => {
      clearInlineError(restore);
      try {
        await api.post(`/vaults/${vid}/restore${encodePath(f.path)}`, { content_hash: f.content_hash });
        notify(`Restored ${fmt.baseName(f.path)}.`);
        opts.onRestored();
      } catch (err) {
        inlineError(restore, err);
      }
    }));
    return h('li', { class: 'row deleted-file', 'data-path': f.path },
      h('div', { class: 'row-main' },
        h('strong', { class: 'file-name', title: f.path, text: fmt.baseName(f.path) }),
        h('div', { class: 'muted small' }, `${f.path} · deleted `,
          h('time', { dateTime: new Date(f.modified_ms).toISOString(), title: fmt.when(f.modified_ms), text: fmt.ago(f.modified_ms) }))),
      caps.write ? h('div', { class: 'row-actions' }, restore) : null);
  }

  return {
    element,
    show(files, caps, retentionDays) {
      const sorted = [...files].sort((a, b) => b.modified_ms - a.modified_ms);
      rows.replaceChildren(...sorted.map((f) => row(f, caps)));
      emptyNote.hidden = sorted.length > 0;
      rows.hidden = !sorted.length;
      note.textContent = `Deleted files can be restored for ${retentionDays} days after they were deleted.`
        + (caps.write ? '' : ' This vault cannot be changed right now, so restoring is not offered.');
    },
  };
}
