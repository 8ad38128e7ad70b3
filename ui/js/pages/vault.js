// One vault: browse its files by folder, upload (drag-and-drop or file
// picker, with progress), download, delete (with undo), history and
// restore, conflicts, its folder on this computer, and its settings.

import { api, upload, download, encodePath } from '../api.js';
import { h, fill, field, section, pageTitle, facts, busy, confirmDialog } from '../dom.js';
import { showError, notify } from '../alerts.js';
import * as fmt from '../format.js';
import { quotaBar, keyBadge, quotaInput } from './vaults.js';
import { historyDialog } from './vault-history.js';
import { folderPanel } from './vault-folder.js';
import { conflictRow as conflictPanelRow } from '../conflicts.js';

const PARALLEL_UPLOADS = 2;

export async function render(ctx) {
  const id = ctx.arg;
  const vid = encodeURIComponent(id);
  let vault = await api.get(`/vaults/${vid}`);
  if (!ctx.alive()) return;
  let prefix = '/'; // the folder shown, always ending in '/'
  let files = [];

  const head = pageTitle(ctx.view, vault.name, h('a', { href: '#/vaults', class: 'back', text: '← All vaults' }));
  const titleEl = head.querySelector('h1');
  const summary = h('div');
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Folder' });
  const input = h('input', { type: 'file', id: 'upload-input', multiple: true, class: 'file-input' });
  const dropZone = h('div', { id: 'drop-zone', class: 'drop-zone' },
    h('p', {}, h('strong', { text: 'Drop files here' }), h('span', { class: 'drop-target' })),
    h('p', {}, h('label', { for: 'upload-input', text: 'or choose files to upload: ' }), input));
  const uploads = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  const tbody = h('tbody');
  const caption = h('caption', { class: 'sr-only' });
  const table = h('table', { class: 'table files' }, caption,
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'Name' }), h('th', { scope: 'col', class: 'num', text: 'Size' }),
      h('th', { scope: 'col', text: 'Changed' }), h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
    tbody);
  const emptyNote = h('p', { class: 'empty' });
  const history = historyDialog(id, () => loadFiles().catch(showError));
  const folder = folderPanel(id, (v) => applyVault(v));

  ctx.view.append(
    section('Overview', summary),
    section('Files', crumbs, dropZone, uploads, h('div', { class: 'table-wrap' }, table), emptyNote),
    section('Folder on this computer', folder.element),
    section('Settings', settingsForm()),
    history.dialog);

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
      v.read_only ? h('p', { class: 'callout', text: 'This vault is read-only: uploads and deletions are refused.' }) : null,
      v.key_state === 'locked' ? h('p', { class: 'callout' }, 'Holdfast is locked, so files cannot be read. ',
        h('a', { href: '#/home', text: 'Unlock on Home' })) : null,
      v.key_state === 'password_locked' ? passwordForm() : null);
    folder.update(v);
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
          showError(err.status === 403 ? 'That password is not right.' : err);
        }
      });
    });
    return form;
  }

  // ---- Browsing -------------------------------------------------------

  function setPrefix(p) {
    prefix = p.endsWith('/') ? p : `${p}/`;
    loadFiles().catch(showError);
  }

  function renderCrumbs() {
    const parts = prefix.split('/').filter(Boolean);
    const items = [h('li', {}, crumbButton(vault.name, '/', parts.length === 0))];
    parts.forEach((part, i) => {
      items.push(h('li', {}, crumbButton(part, `/${parts.slice(0, i + 1).join('/')}/`, i === parts.length - 1)));
    });
    crumbs.replaceChildren(h('ol', {}, items));
    dropZone.querySelector('.drop-target').textContent = ` to upload into ${prefix === '/' ? 'the top folder' : prefix}`;
  }

  function crumbButton(text, to, isCurrent) {
    if (isCurrent) return h('span', { 'aria-current': 'location', text });
    return h('button', { type: 'button', class: 'link-button', text, on: { click: () => setPrefix(to) } });
  }

  async function loadFiles() {
    const query = prefix === '/' ? null : { path: prefix.slice(0, -1) };
    const list = await api.get(`/vaults/${vid}/files`, query);
    if (!ctx.alive()) return;
    files = list.filter((f) => !f.deleted && f.path.startsWith(prefix));
    renderCrumbs();
    const folders = new Map();
    const here = [];
    for (const f of files) {
      const rest = f.path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash === -1) {
        here.push(f);
        continue;
      }
      const name = rest.slice(0, slash);
      const entry = folders.get(name) || { name, count: 0, size: 0, modified: 0 };
      entry.count += 1;
      entry.size += f.size;
      entry.modified = Math.max(entry.modified, f.modified_ms);
      folders.set(name, entry);
    }
    const rows = [];
    if (prefix !== '/') rows.push(upRow());
    for (const d of [...folders.values()].sort((a, b) => a.name.localeCompare(b.name))) rows.push(folderRow(d));
    for (const f of here.sort((a, b) => a.path.localeCompare(b.path))) {
      rows.push(fileRow(f));
      if (f.conflicts.length) rows.push(conflictRow(f));
    }
    tbody.replaceChildren(...rows);
    caption.textContent = `Files in ${prefix}`;
    const nothing = !folders.size && !here.length;
    emptyNote.hidden = !nothing;
    emptyNote.textContent = prefix === '/' ? 'No files yet. Upload some above.' : 'This folder is empty.';
  }

  function upRow() {
    const parent = prefix.split('/').filter(Boolean).slice(0, -1).join('/');
    return h('tr', { class: 'folder up' },
      h('td', { colSpan: 4 }, h('button', { type: 'button', class: 'link-button', text: '↑ Up one folder',
        on: { click: () => setPrefix(`/${parent}`) } })));
  }

  function folderRow(d) {
    return h('tr', { class: 'folder', 'data-path': `${prefix}${d.name}/` },
      h('td', {}, h('button', { type: 'button', class: 'link-button', 'data-action': 'open',
        text: `${d.name}/`, on: { click: () => setPrefix(`${prefix}${d.name}/`) } }),
      h('span', { class: 'muted small', text: ` ${d.count} ${d.count === 1 ? 'file' : 'files'}` })),
      h('td', { class: 'num', text: fmt.bytes(d.size) }),
      h('td', { text: fmt.ago(d.modified) }),
      h('td'));
  }

  function fileRow(f) {
    const name = fmt.baseName(f.path);
    const btn = (action, text) => h('button', { type: 'button', 'data-action': action, text, 'aria-label': `${text} ${name}` });
    const dl = btn('download', 'Download');
    const hist = btn('history', 'History');
    const del = btn('delete', 'Delete');
    del.classList.add('danger');
    dl.addEventListener('click', () => busy(dl, () =>
      download(`/vaults/${vid}/download${encodePath(f.path)}`, name).catch(showError)));
    hist.addEventListener('click', () => history.open(f, hist));
    del.addEventListener('click', () => busy(del, () => remove(f)));
    return h('tr', { class: ['file', f.conflicts.length && 'conflicted'], 'data-path': f.path },
      h('td', { class: 'name' }, h('span', { text: name }),
        f.conflicts.length ? h('span', { class: 'badge warn', text: 'Conflict' }) : null),
      h('td', { class: 'num', text: fmt.bytes(f.size) }),
      h('td', {}, h('time', { dateTime: new Date(f.modified_ms).toISOString(), title: fmt.when(f.modified_ms), text: fmt.ago(f.modified_ms) })),
      h('td', { class: 'actions-cell' }, dl, hist, del));
  }

  async function remove(f) {
    try {
      await api.del(`/vaults/${vid}/files${encodePath(f.path)}`);
      await loadFiles();
      notify(`Deleted ${fmt.baseName(f.path)}.`, {
        label: 'Undo',
        run: () => api.post(`/vaults/${vid}/restore${encodePath(f.path)}`, { content_hash: f.content_hash })
          .then(() => loadFiles(), showError),
      });
    } catch (err) {
      showError(err);
    }
  }

  // A file edited in two places has several heads: see conflicts.js.
  function conflictRow(f) {
    return conflictPanelRow({ vaultId: id, file: f, onResolved: () => reload().catch(showError) });
  }

  // ---- Uploads ----------------------------------------------------------

  const queue = [];
  let running = 0;

  function enqueue(fileList) {
    for (const file of fileList) {
      const target = `${prefix}${file.name}`;
      const bar = h('progress', { class: 'upload-progress', max: Math.max(1, file.size), value: 0,
        'aria-label': `Uploading ${file.name}` });
      const state = h('span', { class: 'muted small', text: 'Waiting' });
      const cancel = h('button', { type: 'button', class: 'icon-button', text: '×', 'aria-label': `Cancel ${file.name}` });
      const row = h('li', { class: 'upload', 'data-path': target },
        h('span', { class: 'upload-name', text: file.name }), bar, state, cancel);
      uploads.append(row);
      const job = { file, target, bar, state, row, cancel, abort: null, cancelled: false };
      cancel.addEventListener('click', () => {
        job.cancelled = true;
        if (job.abort) job.abort();
        else finish(job, 'Cancelled', true);
      });
      queue.push(job);
    }
    pump();
  }

  function finish(job, text, drop) {
    job.state.textContent = text;
    job.cancel.remove();
    if (drop) setTimeout(() => job.row.remove(), 4000);
  }

  function pump() {
    while (running < PARALLEL_UPLOADS && queue.length) {
      const job = queue.shift();
      if (job.cancelled) continue;
      running += 1;
      job.state.textContent = 'Uploading';
      const task = upload(id, job.target, job.file, (loaded, total) => {
        job.bar.max = Math.max(1, total);
        job.bar.value = loaded;
        job.state.textContent = `${fmt.bytes(loaded)} of ${fmt.bytes(total)}`;
      });
      job.abort = task.abort;
      task.promise.then(() => {
        job.bar.value = job.bar.max;
        job.row.classList.add('done');
        finish(job, 'Done', true);
        loadFiles().catch(showError);
        api.get(`/vaults/${vid}`).then(applyVault, () => {});
      }, (err) => {
        job.row.classList.add('failed');
        finish(job, err.status === -1 ? 'Cancelled' : 'Failed', err.status === -1);
        if (err.status === 507 && err.body.hard_quota) {
          showError(`${job.file.name} does not fit: this vault is limited to ${fmt.bytes(err.body.hard_quota)}.`);
        } else if (err.status !== -1) showError(`${job.file.name}: ${err.message}`);
      }).finally(() => {
        running -= 1;
        pump();
      });
    }
  }

  input.addEventListener('change', () => {
    if (input.files.length) enqueue([...input.files]);
    input.value = '';
  });
  for (const type of ['dragenter', 'dragover']) {
    dropZone.addEventListener(type, (e) => {
      e.preventDefault();
      dropZone.classList.add('dragging');
    });
  }
  dropZone.addEventListener('dragleave', (e) => {
    if (!dropZone.contains(e.relatedTarget)) dropZone.classList.remove('dragging');
  });
  dropZone.addEventListener('drop', (e) => {
    e.preventDefault();
    dropZone.classList.remove('dragging');
    const dropped = [...(e.dataTransfer?.files || [])];
    // A dropped folder arrives as an empty entry: skip it.
    const items = [...(e.dataTransfer?.items || [])];
    const real = dropped.filter((f, i) => !items[i]?.webkitGetAsEntry?.()?.isDirectory);
    if (real.length < dropped.length) notify('Folders cannot be dropped; drop the files inside instead.');
    if (real.length) enqueue(real);
  });

  // ---- Settings ---------------------------------------------------------

  function settingsForm() {
    const name = field('Name', { required: true, value: vault.name, autocomplete: 'off' });
    const quota = quotaInput('vault-quota', vault.hard_quota);
    const save = h('button', { type: 'submit', class: 'primary', text: 'Save' });
    const del = h('button', { type: 'button', class: 'danger', 'data-action': 'delete-vault', text: 'Delete vault' });
    const form = h('form', { class: 'stack' }, name.wrap, quota.wrap, h('div', { class: 'actions' }, save, del));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(save, async () => {
        try {
          const v = await api.patch(`/vaults/${vid}`, { name: name.input.value.trim(), hard_quota: quota.value() });
          applyVault(v);
          notify('Saved.');
        } catch (err) {
          showError(err);
        }
      });
    });
    del.addEventListener('click', async () => {
      const ok = await confirmDialog(`Delete the vault “${vault.name}” from this computer? Its files can no longer be opened here.`, 'Delete vault');
      if (!ok) return;
      try {
        await api.del(`/vaults/${vid}`);
        notify(`Vault “${vault.name}” deleted.`);
        location.hash = '#/vaults';
      } catch (err) {
        showError(err);
      }
    });
    return form;
  }

  // ---- Live updates -------------------------------------------------------

  let pending = null;
  const soon = () => {
    clearTimeout(pending);
    pending = setTimeout(() => loadFiles().catch(() => {}), 300);
  };
  ctx.onCleanup(() => clearTimeout(pending));
  ctx.subscribe(['file_added', 'file_updated', 'file_deleted', 'file_conflict'], (e) => {
    if (e.vault_id === id) soon();
  });
  async function reload() {
    applyVault(await api.get(`/vaults/${vid}`));
    await loadFiles();
  }
  ctx.subscribe(['vault_changed', 'identity_state'], (e) => {
    if (!e.vault_id || e.vault_id === id) reload().catch(() => {});
  });
  ctx.subscribe(['vault_deleted'], (e) => {
    if (e.vault_id === id) location.hash = '#/vaults';
  });
  ctx.every(() => folder.poll().catch(() => {}), 2000);

  applyVault(vault);
  renderCrumbs();
  await Promise.all([loadFiles().catch(showError), folder.poll().catch(() => {})]);
}
