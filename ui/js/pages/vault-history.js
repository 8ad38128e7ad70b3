// The history dialog of one file (#history-dialog): every version, newest
// first, with download and restore (the current version cannot be restored).

import { api, download, encodePath } from '../api.js';
import { h } from '../dom.js';
import { showError, notify } from '../alerts.js';
import * as fmt from '../format.js';

/**
 * Make the dialog (once per vault page). open(file) shows the versions of
 * `file` (a FileJSON row); onRestored() runs after a restore.
 */
export function historyDialog(vaultId, onRestored) {
  const title = h('h2', { id: 'history-title' });
  const list = h('ol', { class: 'versions' });
  const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', text: '×' });
  const dialog = h('dialog', { id: 'history-dialog', 'aria-labelledby': 'history-title' },
    h('div', { class: 'dialog-head' }, title, close),
    h('p', { class: 'muted', text: 'Every upload or edit is kept. Restoring makes an old version current again; nothing is lost.' }),
    list);
  close.addEventListener('click', () => dialog.close());
  // A click on the backdrop (outside the box) closes too.
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) {
      const r = dialog.getBoundingClientRect();
      const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
      if (!inside) dialog.close();
    }
  });

  let returnFocus = null;
  dialog.addEventListener('close', () => returnFocus?.focus());

  function versionItem(file, v, isCurrent) {
    const label = v.deleted ? 'Deleted' : isCurrent ? 'Current version' : fmt.when(v.modified_ms);
    const restore = h('button', { type: 'button', 'data-action': 'restore', text: 'Restore', disabled: isCurrent || v.deleted });
    const save = h('button', { type: 'button', 'data-action': 'download', text: 'Download', disabled: v.deleted });
    restore.addEventListener('click', async () => {
      restore.disabled = true;
      try {
        await api.post(`/vaults/${encodeURIComponent(vaultId)}/restore${encodePath(file.path)}`, { content_hash: v.content_hash });
        notify(`Restored ${fmt.baseName(file.path)} as it was on ${fmt.when(v.modified_ms)}.`);
        dialog.close();
        onRestored();
      } catch (err) {
        restore.disabled = false;
        showError(err);
      }
    });
    save.addEventListener('click', () => download(
      `/vaults/${encodeURIComponent(vaultId)}/version${encodePath(file.path)}`,
      fmt.baseName(file.path), { content_hash: v.content_hash }).catch(showError));
    return h('li', { class: ['version', isCurrent && 'current', v.deleted && 'deleted'], 'data-hash': v.content_hash },
      h('div', { class: 'row-main' },
        h('strong', { text: label }),
        h('div', { class: 'muted small' },
          isCurrent ? `${fmt.when(v.modified_ms)} · ` : '',
          v.deleted ? '' : `${fmt.bytes(v.size)} · `,
          fmt.origin(v.origin) ? `${fmt.origin(v.origin)} · ` : '',
          h('code', { text: fmt.shortHash(v.content_hash), title: v.content_hash }))),
      h('div', { class: 'row-actions' }, save, restore));
  }

  async function open(file, opener) {
    returnFocus = opener || null;
    title.textContent = `Versions of ${fmt.baseName(file.path)}`;
    list.replaceChildren(h('li', { class: 'muted', text: 'Loading…' }));
    if (!dialog.open) dialog.showModal();
    close.focus();
    try {
      // The row may be a moment old: ask for the current head too.
      const base = `/vaults/${encodeURIComponent(vaultId)}`;
      const [versions, head] = await Promise.all([
        api.get(`${base}/history${encodePath(file.path)}`),
        api.get(`${base}/files${encodePath(file.path)}`).catch(() => file),
      ]);
      list.replaceChildren(...versions.map((v) => versionItem(head, v, v.version_id === head.version_id)));
    } catch (err) {
      dialog.close();
      showError(err);
    }
  }

  return { dialog, open };
}
