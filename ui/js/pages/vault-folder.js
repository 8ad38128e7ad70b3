// A vault's folder on this computer: bind it with a folder picker
// (#folder-dialog, backed by /system/browse), watch the scan, pause/resume.

import { api } from '../api.js';
import { h, field, checkbox, facts, busy, confirmDialog, skeleton } from '../dom.js';
import { inlineError, clearInlineError } from '../errors.js';
import { conflictText } from '../conflicts.js';
import { showError, notify } from '../alerts.js';
import * as fmt from '../format.js';

/** The picker dialog: pick(start) resolves to a path, or null if cancelled. */
function folderPicker() {
  const current = h('code', { class: 'wrap' });
  const dirs = h('ul', { class: 'dir-list' });
  const up = h('button', { type: 'button', text: '↑ Up', 'aria-label': 'Up one folder' });
  const hidden = checkbox('Show hidden folders');
  const typed = field('Or type a path', { spellcheck: false, autocomplete: 'off' });
  const go = h('button', { type: 'button', text: 'Go' });
  const cancel = h('button', { type: 'button', text: 'Cancel' });
  const choose = h('button', { type: 'button', class: 'primary', text: 'Use this folder' });
  const note = h('p', { class: 'muted small' });
  const dialog = h('dialog', { id: 'folder-dialog', 'aria-labelledby': 'folder-title' },
    h('div', { class: 'dialog-head' }, h('h2', { id: 'folder-title', text: 'Choose a folder' })),
    h('p', {}, 'In: ', current),
    h('div', { class: 'actions' }, up, hidden.wrap),
    dirs, note,
    h('div', { class: 'input-row' }, typed.wrap, go),
    h('div', { class: 'actions end' }, cancel, choose));

  let path = null;
  let parent = null;
  let resolve = () => {};

  async function browse(to) {
    try {
      const res = await api.get('/system/browse', { path: to, hidden: hidden.input.checked ? 'true' : undefined });
      path = res.path;
      parent = res.parent;
      current.textContent = res.path;
      typed.input.value = res.path;
      up.disabled = !res.parent;
      dirs.replaceChildren(...res.directories.map((name) => h('li', {},
        h('button', { type: 'button', class: 'dir', text: `${name}/`,
          on: { click: () => browse(res.path.endsWith('/') ? res.path + name : `${res.path}/${name}`) } }))));
      note.textContent = res.directories.length ? (res.truncated ? 'Only the first 1000 folders are shown.' : '')
        : 'No folders inside.';
    } catch (err) {
      showError(err);
    }
  }

  up.addEventListener('click', () => parent && browse(parent));
  hidden.input.addEventListener('change', () => browse(path));
  go.addEventListener('click', () => browse(typed.input.value.trim()));
  typed.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      browse(typed.input.value.trim());
    }
  });
  cancel.addEventListener('click', () => dialog.close());
  choose.addEventListener('click', () => {
    const picked = path;
    path = null;
    dialog.close();
    resolve(picked);
  });
  dialog.addEventListener('close', () => resolve(null));

  return {
    dialog,
    pick(start) {
      return new Promise((res) => {
        resolve = (value) => {
          resolve = () => {};
          res(value);
        };
        dialog.showModal();
        browse(start || undefined).then(() => choose.focus());
      });
    },
  };
}

/**
 * The "Folder on this computer" panel. Returns {element, update(vault),
 * poll()}: update re-renders from a VaultJSON, poll refreshes the scan status.
 * Its state never says "Up to date" while a conflict waits or sync is paused.
 */
export function folderPanel(vaultId, onChanged) {
  const picker = folderPicker();
  const body = h('div');
  const notice = h('div', { class: 'sync-notice' });
  const status = h('div', { class: 'scan', 'aria-live': 'polite' }, skeleton(3, 'Loading the sync state…'));
  const element = h('div', { class: 'folder-panel' }, body, notice, status, picker.dialog);
  let vault = null;
  let last = null; // the last scan-status

  async function patch(changes, message, anchor) {
    if (anchor) clearInlineError(anchor);
    try {
      const v = await api.patch(`/vaults/${encodeURIComponent(vaultId)}`, changes);
      notify(message);
      onChanged(v);
    } catch (err) {
      if (anchor) inlineError(anchor, err);
      else showError(err);
    }
  }

  async function chooseFolder(button) {
    const picked = await picker.pick(vault.folder);
    button.focus();
    if (picked) await patch({ folder: picked }, `Now mirroring ${picked}.`, button.parentElement);
  }

  function toggleSync(button, resume) {
    return busy(button, () => patch({ sync_paused: !resume },
      resume ? 'Sync resumed.' : 'Sync paused. Changes wait until you resume.', button.parentElement));
  }

  function update(v) {
    vault = v;
    const choose = h('button', { type: 'button', 'data-action': 'choose-folder',
      text: v.folder ? 'Change folder…' : 'Choose a folder…' });
    choose.addEventListener('click', () => chooseFolder(choose));
    if (!v.folder) {
      body.replaceChildren(
        h('p', { class: 'muted', text: 'Not linked to a folder. Link one to keep every edit of its files as a version here.' }),
        h('div', { class: 'actions' }, choose));
      notice.replaceChildren();
      status.replaceChildren();
      return;
    }
    const pause = h('button', { type: 'button', 'data-action': 'toggle-sync',
      text: v.sync_paused ? 'Resume sync' : 'Pause sync', 'aria-pressed': String(v.sync_paused) });
    pause.addEventListener('click', () => toggleSync(pause, v.sync_paused));
    const unbind = h('button', { type: 'button', class: 'danger', text: 'Stop mirroring' });
    unbind.addEventListener('click', async () => {
      if (await confirmDialog('Stop mirroring this folder? Its files stay where they are, and the vault keeps its versions.', 'Stop mirroring')) {
        await patch({ folder: null }, 'The folder is no longer mirrored.', unbind.parentElement);
      }
    });
    poll().catch(() => {});
    body.replaceChildren(
      h('p', {}, 'Mirrors ', h('code', { class: 'wrap', text: v.folder }), v.sync_paused ? h('span', { class: 'badge warn', text: 'Paused' }) : null),
      h('div', { class: 'actions' }, pause, choose, unbind));
    renderNotice();
  }

  /** What waits for the person: paused sync, conflicts to decide. */
  function renderNotice() {
    if (!vault || !vault.folder) return;
    const parts = [];
    if (vault.sync_paused) {
      const resume = h('button', { type: 'button', class: 'primary', 'data-action': 'resume-sync', text: 'Resume sync' });
      resume.addEventListener('click', () => toggleSync(resume, true));
      const waiting = last ? last.pending : null;
      parts.push(h('div', { class: 'callout sync-paused', role: 'status' },
        h('p', {}, h('strong', { text: 'Sync is paused. ' }),
          waiting ? `${waiting} ${waiting === 1 ? 'change' : 'changes'} from the vault ${waiting === 1 ? 'waits' : 'wait'} to be written to the folder. `
            : 'Nothing from the vault waits for the folder. ',
          'Edits made in the folder meanwhile are taken in when you resume; nothing is lost.'),
        h('div', { class: 'actions' }, resume)));
    }
    const n = vault.conflict_count || 0;
    if (n) {
      const show = h('button', { type: 'button', class: 'link-button', 'data-action': 'show-conflicts', text: 'Show them' });
      show.addEventListener('click', () => {
        const row = document.querySelector('tr.conflict-row');
        if (row) {
          row.scrollIntoView({ block: 'center' });
          row.querySelector('button')?.focus();
        }
      });
      parts.push(h('p', { class: 'callout conflict-notice' },
        h('span', { class: 'badge warn', text: conflictText(n) }), ' ',
        `${n === 1 ? 'A file was' : 'Files were'} changed both in the folder and elsewhere. Decide which version to keep in the file list. `,
        show));
    }
    notice.replaceChildren(...parts);
  }

  async function poll() {
    if (!vault || !vault.folder) return;
    const s = await api.get(`/vaults/${encodeURIComponent(vaultId)}/scan-status`);
    const hadPending = last ? last.pending : null;
    const newConflicts = last && s.conflicts !== last.conflicts;
    last = s;
    if (newConflicts) {
      // A new conflict was made: the vault's durable count changed.
      api.get(`/vaults/${encodeURIComponent(vaultId)}`).then(onChanged, () => {});
    }
    if (vault.sync_paused && s.pending !== hadPending) renderNotice();
    const conflicts = vault.conflict_count || 0;
    let state = 'Up to date';
    if (s.paused) state = s.pending ? `Paused: ${s.pending} ${s.pending === 1 ? 'change waits' : 'changes wait'}` : 'Paused';
    else if (s.waiting_for_unlock) state = 'Waiting for you to unlock';
    else if (s.active) state = s.pending ? `Working: ${s.pending} changes to go` : 'Scanning…';
    else if (conflicts) state = `${conflictText(conflicts)} to decide`;
    status.replaceChildren(facts([
      ['Status', h('span', { class: ['sync-state', (s.paused || conflicts) && 'attention'], 'data-state': s.paused ? 'paused' : (conflicts ? 'conflict' : (s.active ? 'working' : 'ok')), text: state })],
      ['Conflicts', conflicts ? conflictText(conflicts) : undefined],
      // While paused nothing runs: no counters to show.
      ['Watching', s.paused ? undefined : (s.watching ? 'Yes, changes are picked up at once' : 'No, the folder is checked now and then')],
      ['Files seen', s.paused ? undefined : String(s.walked)],
      ['Taken in', s.paused ? undefined : `${s.ingested} changes (${fmt.bytes(s.bytes_ingested)})`],
      ['Written back', s.paused ? undefined : String(s.written_back)],
      ['Problems', s.errors ? `${s.errors}${s.last_error ? `: ${s.last_error}` : ''}` : undefined],
      ['Last full scan', s.last_scan_finished_ms ? fmt.ago(s.last_scan_finished_ms) : (s.last_scan_started_ms ? 'In progress' : undefined)],
    ]));
  }

  return { element, update, poll };
}
