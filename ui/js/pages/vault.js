// One vault: its overview (facts and a storage chart), its files (search,
// sort, folders, previews, multi-select, rename/move, uploads of files and
// folders, a Deleted files view), conflicts, its folder on this computer,
// the devices that keep copies of it, and its settings. The parts live in
// vault-*.js; this module wires them.

import { api, download, encodePath } from '../api.js';
import { h, fill, field, section, pageTitle, facts, busy, confirmDialog, skeleton } from '../dom.js';
import { showError, notify } from '../alerts.js';
import { inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';
import { quotaBar, keyBadge } from './vaults.js';
import { historyDialog } from './vault-history.js';
import { folderPanel } from './vault-folder.js';
import { fileTable } from './vault-files.js';
import { previewDialog } from './vault-preview.js';
import { uploader } from './vault-upload.js';
import { deletedList } from './vault-deleted.js';
import { storageChart } from './vault-chart.js';
import { renameDialog, newFolderDialog } from './vault-rename.js';
import { settingsForm } from './vault-settings.js';
import { replicationPanel } from './vault-replicas.js';
import { conflictRow as conflictPanelRow } from '../conflicts.js';

const PARALLEL_DELETES = 4;

/** The page for a vault id that names no vault (not a toast). */
function notFound(ctx) {
  pageTitle(ctx.view, 'Vault not found');
  ctx.view.append(h('section', { class: 'card not-found', id: 'vault-not-found' },
    h('p', { text: 'There is no vault with this id on this computer. It may have been deleted, or the link is mistyped.' }),
    h('p', {}, h('a', { href: '#/vaults', text: '← See all vaults' }))));
}

/** Run fn over items, `n` at a time; answers the failures as [item, err]. */
async function eachLimited(items, n, fn) {
  const failed = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      try {
        await fn(item);
      } catch (err) {
        failed.push([item, err]);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return failed;
}

export async function render(ctx) {
  const id = ctx.arg;
  const vid = encodeURIComponent(id);
  let vault;
  try {
    vault = await api.get(`/vaults/${vid}`);
  } catch (err) {
    if (!ctx.alive()) return;
    if (err.status === 404) return notFound(ctx);
    throw err;
  }
  if (!ctx.alive()) return;
  const foldersKey = `holdfast.folders.${id}`;
  let prefix = '/'; // the folder shown, always ending in '/'
  let query = '';
  let view = 'files';
  let files = []; // live files
  let deleted = []; // files whose newest version is a tombstone
  let loaded = false;
  const extraFolders = new Set(JSON.parse(sessionStorage.getItem(foldersKey) || '[]'));

  const head = pageTitle(ctx.view, vault.name, h('a', { href: '#/vaults', class: 'back', text: '← All vaults' }));
  const titleEl = head.querySelector('h1');
  const summary = h('div');
  const chartBox = h('div', { class: 'chart-box' }, skeleton(2, 'Loading the storage chart…'));
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Folder' });
  const search = h('input', { type: 'search', id: 'file-search', autocomplete: 'off', spellcheck: false,
    placeholder: 'Name contains…' });
  const newFolder = h('button', { type: 'button', id: 'new-folder', text: 'New folder' });
  const showFiles = h('button', { type: 'button', id: 'show-files', 'aria-pressed': 'true', text: 'Files' });
  const showDeleted = h('button', { type: 'button', id: 'show-deleted', 'aria-pressed': 'false', text: 'Deleted files' });
  const toolbar = h('div', { class: 'files-toolbar' },
    h('div', { class: 'field search-field' }, h('label', { for: 'file-search', text: 'Search this vault' }), search),
    h('div', { class: 'actions' }, newFolder,
      h('div', { class: 'view-switch', role: 'group', 'aria-label': 'Show' }, showFiles, showDeleted)));
  const history = historyDialog(id, () => loadFiles().catch(showError));
  const preview = previewDialog(id, (f, btn) => save(f, btn));
  const folder = folderPanel(id, (v) => applyVault(v));
  const up = uploader({
    vaultId: id,
    prefix: () => prefix,
    vault: () => vault,
    live: () => files,
    onDone: () => soon(),
  });
  const table = fileTable({
    onFolder: (p) => setPrefix(p),
    onOpen: (f, btn) => preview.open(f, btn),
    onDownload: (f, btn) => save(f, btn),
    onHistory: (f, btn) => history.open(f, btn),
    onRename: (f, btn) => renameDialog(id, f, btn, (moved) => {
      notify(`Moved ${fmt.baseName(f.path)} to ${moved.path}.`);
      loadFiles().catch(showError);
    }, allFolders()),
    onBulkDelete: (list, anchor) => removeFiles(list, anchor),
    onBulkDownload: (list, anchor) => saveAll(list, anchor),
    extraRow: (f) => (f.conflicts.length ? conflictRow(f) : null),
  });
  table.showLoading(skeleton(4, 'Loading files…'));
  const trash = deletedList({ vaultId: id, onRestored: () => loadFiles().catch(showError) });
  trash.element.hidden = true;
  const filesView = h('div', { id: 'files-view' }, crumbs, up.element, table.element);

  const replicas = replicationPanel(id);
  ctx.view.append(
    section('Overview', summary, chartBox),
    section('Files', toolbar, filesView, trash.element),
    section('Your devices', replicas.element),
    section('Folder on this computer', folder.element),
    section('Settings', settingsForm(() => vault, (v) => applyVault(v))),
    history.dialog, preview.dialog);

  /** What the vault allows now: reading (unlocked) and changing. */
  function caps() {
    const read = vault.key_state === 'available';
    return { read, write: read && !vault.read_only };
  }

  function applyVault(v) {
    vault = v;
    titleEl.textContent = v.name;
    document.title = `${v.name} · Holdfast`;
    const details = [
      ['Status', keyBadge(v)],
      ['Files', String(v.file_count)],
      ['Space', quotaBar(v)],
      ['Old versions kept for', `${v.retention_days} days`],
      ['Created', fmt.when(v.created_ms)],
    ];
    fill(summary, facts(details),
      v.read_only ? h('p', { class: 'callout', text: 'This vault is read-only: uploads, renames and deletions are refused.' }) : null,
      v.key_state === 'locked' ? h('p', { class: 'callout' }, 'Holdfast is locked, so files cannot be read, uploaded or downloaded. ',
        h('a', { href: '#/home', text: 'Unlock on Home' })) : null,
      v.key_state === 'password_locked' ? passwordForm() : null);
    folder.update(v);
    const c = caps();
    up.setAllowed(c.write);
    newFolder.hidden = !c.write;
    draw();
  }

  function passwordForm() {
    const pass = field('Vault password', { type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Open vault' });
    const form = h('form', { class: 'stack' },
      h('p', { text: 'This vault has its own password.' }), pass.wrap, h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        try {
          await api.post('/vaults/unlock', { password: pass.input.value });
          await reload();
        } catch (err) {
          inlineError(form, err.status === 403 ? 'That password is not right.' : err);
        }
      });
    });
    return form;
  }

  // ---- Browsing -------------------------------------------------------

  function setPrefix(p) {
    prefix = p.endsWith('/') ? p : `${p}/`;
    draw();
  }

  function renderCrumbs() {
    const parts = prefix.split('/').filter(Boolean);
    const items = [h('li', {}, crumbButton(vault.name, '/', parts.length === 0))];
    parts.forEach((part, i) => {
      items.push(h('li', {}, crumbButton(part, `/${parts.slice(0, i + 1).join('/')}/`, i === parts.length - 1)));
    });
    crumbs.replaceChildren(h('ol', {}, items));
    crumbs.hidden = !!query;
    up.describeTarget();
  }

  function crumbButton(text, to, isCurrent) {
    if (isCurrent) return h('span', { 'aria-current': 'location', text });
    return h('button', { type: 'button', class: 'link-button', text, on: { click: () => setPrefix(to) } });
  }

  /** Show what is loaded: the file table or the deleted files. */
  function draw() {
    renderCrumbs();
    showDeleted.textContent = loaded ? `Deleted files (${deleted.length})` : 'Deleted files';
    if (!loaded) return;
    table.show({ files, prefix, query, folders: extraFolders, caps: caps() });
    trash.show(query ? deleted.filter((f) => fmt.baseName(f.path).toLocaleLowerCase().includes(query.toLocaleLowerCase())) : deleted,
      caps(), vault.retention_days);
  }

  async function loadFiles() {
    const list = await api.get(`/vaults/${vid}/files`, { include_deleted: 1 });
    if (!ctx.alive()) return;
    files = list.filter((f) => !f.deleted);
    deleted = list.filter((f) => f.deleted);
    // A new folder is real once a file lands in it.
    for (const p of [...extraFolders]) if (files.some((f) => f.path.startsWith(p))) extraFolders.delete(p);
    sessionStorage.setItem(foldersKey, JSON.stringify([...extraFolders]));
    loaded = true;
    draw();
  }

  async function loadChart() {
    try {
      const analytics = await api.get(`/vaults/${vid}/analytics`);
      if (ctx.alive()) chartBox.replaceChildren(storageChart(analytics));
    } catch (err) {
      if (ctx.alive()) {
        chartBox.replaceChildren();
        inlineError(chartBox, err);
      }
    }
  }

  function setView(next) {
    view = next;
    showFiles.setAttribute('aria-pressed', String(view === 'files'));
    showDeleted.setAttribute('aria-pressed', String(view === 'deleted'));
    filesView.hidden = view !== 'files';
    trash.element.hidden = view !== 'deleted';
  }
  showFiles.addEventListener('click', () => setView('files'));
  showDeleted.addEventListener('click', () => setView('deleted'));
  search.addEventListener('input', () => {
    query = search.value.trim();
    draw();
  });
  newFolder.addEventListener('click', () => newFolderDialog(prefix, newFolder, (p) => {
    extraFolders.add(p);
    sessionStorage.setItem(foldersKey, JSON.stringify([...extraFolders]));
    query = '';
    search.value = '';
    setView('files');
    setPrefix(p);
  }));

  // ---- File actions ---------------------------------------------------

  /** Every folder prefix ('/', '/a/', '/a/b/', and new ones), sorted. */
  function allFolders() {
    const out = new Set(['/', ...extraFolders]);
    for (const f of files) {
      const parts = f.path.split('/').filter(Boolean).slice(0, -1);
      for (let i = 1; i <= parts.length; i += 1) out.add(`/${parts.slice(0, i).join('/')}/`);
    }
    return [...out].sort();
  }

  function save(f, btn) {
    clearInlineError(btn);
    return busy(btn, () => download(`/vaults/${vid}/download${encodePath(f.path)}`, fmt.baseName(f.path))
      .catch((err) => inlineError(btn, err)));
  }

  /** Download each file in turn (browsers may ask once to allow several). */
  async function saveAll(list, anchor) {
    clearInlineError(anchor);
    const failed = [];
    for (const f of list) {
      try {
        await download(`/vaults/${vid}/download${encodePath(f.path)}`, fmt.baseName(f.path));
      } catch (err) {
        failed.push([f, err]);
      }
    }
    if (failed.length) inlineError(anchor, failedText('download', failed));
  }

  function failedText(verb, failed) {
    const [f, err] = failed[0];
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
    return `Could not ${verb} ${fmt.baseName(f.path)}${more}: ${err.message}`;
  }

  /** Delete files (one confirm for several), with Undo (restore). */
  async function removeFiles(list, anchor) {
    if (!list.length) return;
    clearInlineError(anchor);
    if (list.length > 1) {
      const ok = await confirmDialog(`Delete ${list.length} files? They stay in Deleted files for ${vault.retention_days} days and can be restored from there.`,
        `Delete ${list.length} files`);
      if (!ok) return;
    }
    const failed = await eachLimited(list, PARALLEL_DELETES,
      (f) => api.del(`/vaults/${vid}/files${encodePath(f.path)}`));
    const gone = list.filter((f) => !failed.some(([x]) => x === f));
    table.clearSelection();
    await loadFiles().catch(showError);
    if (failed.length) inlineError(anchor.isConnected ? anchor : crumbs, failedText('delete', failed));
    if (!gone.length) return;
    const what = gone.length === 1 ? fmt.baseName(gone[0].path) : `${gone.length} files`;
    notify(`Deleted ${what}.`, {
      label: 'Undo',
      run: async () => {
        const bad = await eachLimited(gone, PARALLEL_DELETES, (f) =>
          api.post(`/vaults/${vid}/restore${encodePath(f.path)}`, { content_hash: f.content_hash }));
        await loadFiles().catch(showError);
        if (bad.length) showError(failedText('restore', bad));
      },
    });
  }

  // A file edited in two places has several heads: see conflicts.js.
  function conflictRow(f) {
    return conflictPanelRow({ vaultId: id, file: f, columns: 5, onResolved: () => reload().catch(showError) });
  }

  // ---- Live updates -------------------------------------------------------

  let pending = null;
  function soon() {
    clearTimeout(pending);
    pending = setTimeout(() => {
      loadFiles().catch(() => {});
      loadChart();
      api.get(`/vaults/${vid}`).then((v) => ctx.alive() && applyVault(v), () => {});
    }, 300);
  }
  ctx.onCleanup(() => clearTimeout(pending));
  ctx.subscribe(['file_added', 'file_updated', 'file_deleted', 'file_conflict'], (e) => {
    if (e.vault_id === id) soon();
  });
  async function reload() {
    applyVault(await api.get(`/vaults/${vid}`));
    await loadFiles();
    await loadChart();
  }
  ctx.subscribe(['vault_changed', 'identity_state'], (e) => {
    if (!e.vault_id || e.vault_id === id) reload().catch(() => {});
  });
  ctx.subscribe(['vault_deleted'], (e) => {
    if (e.vault_id === id) location.hash = '#/vaults';
  });
  ctx.subscribe(['replication_progress', 'peer_connected', 'peer_disconnected', 'network_changed'], (e) => {
    if (!e.vault_id || e.vault_id === id) replicas.refresh();
  });
  ctx.every(() => folder.poll().catch(() => {}), 2000);

  applyVault(vault);
  await Promise.all([loadFiles().catch((err) => {
    table.showLoading(h('p', { class: 'muted', text: 'The file list could not be loaded.' }));
    inlineError(crumbs, err);
  }), loadChart(), folder.poll().catch(() => {}), replicas.refresh()]);
}
