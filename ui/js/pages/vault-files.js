// The file table of a vault page: folders and files under the current
// folder (or, while searching, matching files from every folder), sortable
// headers (aria-sort), a checkbox per file with select-all, and a bar of
// bulk actions for the selection. Pure view: the page passes the data and
// the actions in.

import { h } from '../dom.js';
import * as fmt from '../format.js';

const NS = 'http://www.w3.org/2000/svg';

/** A small folder glyph (SVG: no emoji font needed). */
function folderIcon() {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('class', 'kind');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', 'M1 3.5A1.5 1.5 0 0 1 2.5 2h3.6l1.5 1.5h5.9A1.5 1.5 0 0 1 15 5v7.5a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 1 12.5z');
  svg.append(path);
  return svg;
}

const COLUMNS = [['name', 'Name'], ['size', 'Size'], ['modified', 'Changed']];

/**
 * opts: { onFolder(prefix), onOpen(file, button), onDownload(file, button),
 * onHistory(file, button), onRename(file, button), onBulkDelete(files,
 * anchor), onBulkDownload(files, anchor), extraRow(file) → row or null }.
 * Returns { element, show(model), showLoading(node) }; model: { files (live),
 * prefix, query, folders (extra, client-side folder prefixes), caps: {read,
 * write}, vaultName }.
 */
export function fileTable(opts) {
  let sort = { key: 'name', dir: 'ascending' };
  const selected = new Set();
  let model = null;
  let visible = [];

  const selectAll = h('input', { type: 'checkbox', id: 'select-all', class: 'select', 'aria-label': 'Select every file shown' });
  const heads = COLUMNS.map(([key, label]) => {
    const arrow = h('span', { class: 'sort-arrow', 'aria-hidden': 'true' });
    const button = h('button', { type: 'button', class: 'sort', 'data-sort': key }, label, arrow);
    const th = h('th', { scope: 'col', class: [`col-${key}`, key === 'size' && 'num'] },
      key === 'name' ? selectAll : null, button);
    button.addEventListener('click', () => {
      if (sort.key === key) sort.dir = sort.dir === 'ascending' ? 'descending' : 'ascending';
      else sort = { key, dir: key === 'name' ? 'ascending' : 'descending' };
      draw();
    });
    return { key, th, arrow };
  });
  const tbody = h('tbody');
  const caption = h('caption', { class: 'sr-only' });
  const table = h('table', { class: 'table files' }, caption,
    h('thead', {}, h('tr', {}, heads.map((c) => c.th),
      h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only', text: 'Actions' })))),
    tbody);
  const emptyNote = h('p', { class: 'empty', id: 'files-empty', hidden: true });
  const loading = h('div', { class: 'files-loading' });

  const count = h('span', { class: 'bulk-count', 'aria-live': 'polite' });
  const bulkDownload = h('button', { type: 'button', 'data-action': 'bulk-download', text: 'Download' });
  const bulkDelete = h('button', { type: 'button', class: 'danger', 'data-action': 'bulk-delete', text: 'Delete' });
  const clear = h('button', { type: 'button', class: 'link-button', text: 'Clear selection' });
  const bulk = h('div', { class: 'bulk', id: 'bulk-bar', role: 'region', 'aria-label': 'Selected files', hidden: true },
    count, h('div', { class: 'actions' }, bulkDownload, bulkDelete, clear));
  const chosen = () => visible.filter((f) => selected.has(f.path));
  bulkDownload.addEventListener('click', () => opts.onBulkDownload(chosen(), bulk));
  bulkDelete.addEventListener('click', () => opts.onBulkDelete(chosen(), bulk));
  clear.addEventListener('click', () => {
    selected.clear();
    draw();
    selectAll.focus();
  });
  selectAll.addEventListener('change', () => {
    for (const f of visible) {
      if (selectAll.checked) selected.add(f.path);
      else selected.delete(f.path);
    }
    draw();
  });

  const element = h('div', { class: 'file-table' }, bulk, loading, h('div', { class: 'table-wrap' }, table), emptyNote);

  function compare(a, b) {
    const by = sort.key;
    let d;
    if (by === 'size') d = a.size - b.size;
    else if (by === 'modified') d = a.modified - b.modified;
    else d = 0;
    if (d === 0) d = a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' });
    return sort.dir === 'ascending' ? d : -d;
  }

  /** The folders and files to show, from the model. */
  function entries() {
    const { files, prefix, query, folders } = model;
    if (query) {
      const q = query.toLocaleLowerCase();
      const found = files.filter((f) => fmt.baseName(f.path).toLocaleLowerCase().includes(q))
        .map((f) => ({ file: f, name: fmt.baseName(f.path), size: f.size, modified: f.modified_ms }));
      return { dirs: [], here: found.sort(compare) };
    }
    const dirs = new Map();
    const here = [];
    for (const f of files) {
      if (!f.path.startsWith(prefix)) continue;
      const rest = f.path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash === -1) {
        here.push({ file: f, name: rest, size: f.size, modified: f.modified_ms });
        continue;
      }
      const name = rest.slice(0, slash);
      const d = dirs.get(name) || { name, count: 0, size: 0, modified: 0 };
      d.count += 1;
      d.size += f.size;
      d.modified = Math.max(d.modified, f.modified_ms);
      dirs.set(name, d);
    }
    for (const p of folders) {
      if (!p.startsWith(prefix) || p === prefix) continue;
      const name = p.slice(prefix.length).split('/')[0];
      if (name && !dirs.has(name)) dirs.set(name, { name, count: 0, size: 0, modified: 0, fresh: true });
    }
    return { dirs: [...dirs.values()].sort(compare), here: here.sort(compare) };
  }

  function draw() {
    if (!model) return;
    const { prefix, query, caps } = model;
    const { dirs, here } = entries();
    visible = here.map((e) => e.file);
    for (const p of [...selected]) if (!visible.some((f) => f.path === p)) selected.delete(p);
    const selectable = caps.read || caps.write;
    const rows = [];
    if (prefix !== '/' && !query) rows.push(upRow(prefix));
    for (const d of dirs) rows.push(folderRow(prefix, d));
    for (const e of here) {
      rows.push(fileRow(e, { selectable, caps, showFolder: !!query }));
      const extra = opts.extraRow(e.file);
      if (extra) rows.push(extra);
    }
    tbody.replaceChildren(...rows);
    caption.textContent = query ? `Files whose names contain “${query}”` : `Files in ${prefix}`;
    for (const c of heads) {
      const on = c.key === sort.key;
      if (on) c.th.setAttribute('aria-sort', sort.dir);
      else c.th.removeAttribute('aria-sort');
      c.arrow.textContent = on ? (sort.dir === 'ascending' ? ' ▲' : ' ▼') : '';
    }
    selectAll.hidden = !selectable || !visible.length;
    selectAll.checked = visible.length > 0 && selected.size === visible.length;
    selectAll.indeterminate = selected.size > 0 && selected.size < visible.length;
    bulk.hidden = selected.size === 0;
    count.textContent = `${selected.size} ${selected.size === 1 ? 'file' : 'files'} selected`;
    bulkDownload.hidden = !caps.read;
    bulkDelete.hidden = !caps.write;
    const nothing = !dirs.length && !here.length;
    table.hidden = nothing && prefix === '/' && !query;
    emptyNote.hidden = !nothing;
    emptyNote.textContent = emptyText(prefix, query);
  }

  function emptyText(prefix, query) {
    if (query) return `No file names contain “${query}”.`;
    if (prefix === '/') return model.caps.write ? 'No files yet. Upload some above.' : 'No files yet.';
    if (model.folders.has(prefix)) {
      return 'This folder is new: vaults keep no empty folders, so it exists on this page only until a file lands in it. Upload files here or move files into it.';
    }
    return 'This folder is empty.';
  }

  function upRow(prefix) {
    const parent = prefix.split('/').filter(Boolean).slice(0, -1).join('/');
    return h('tr', { class: 'folder up' },
      h('td', { colSpan: 4 }, h('button', { type: 'button', class: 'link-button', text: '↑ Up one folder',
        on: { click: () => opts.onFolder(parent ? `/${parent}/` : '/') } })));
  }

  function folderRow(prefix, d) {
    const count = d.fresh ? 'new, empty' : `${d.count} ${d.count === 1 ? 'file' : 'files'}`;
    return h('tr', { class: 'folder', 'data-path': `${prefix}${d.name}/` },
      h('td', { class: 'name' }, h('span', { class: 'name-line' },
        folderIcon(),
        h('button', { type: 'button', class: 'link-button file-name', 'data-action': 'open', title: d.name,
          on: { click: () => opts.onFolder(`${prefix}${d.name}/`) } }, h('span', { class: 'label', text: `${d.name}/` }))),
      h('span', { class: 'muted small', text: ` ${count}` })),
      h('td', { class: 'num', text: d.fresh ? '—' : fmt.bytes(d.size) }),
      h('td', { text: d.fresh ? '—' : fmt.ago(d.modified) }),
      h('td', { class: 'actions-cell' }));
  }

  function fileRow(e, { selectable, caps, showFolder }) {
    const f = e.file;
    const name = e.name;
    const btn = (action, text, cls) => h('button', { type: 'button', class: cls, 'data-action': action, text, 'aria-label': `${text} ${name}` });
    const check = selectable ? h('input', { type: 'checkbox', class: 'select', checked: selected.has(f.path), 'aria-label': `Select ${name}` }) : null;
    check?.addEventListener('change', () => {
      if (check.checked) selected.add(f.path);
      else selected.delete(f.path);
      draw();
      tbody.querySelector(`tr.file[data-path="${CSS.escape(f.path)}"] input.select`)?.focus();
    });
    const nameEl = caps.read
      ? h('button', { type: 'button', class: 'link-button file-name', 'data-action': 'preview', title: name },
        h('span', { class: 'label', text: name }))
      : h('span', { class: 'file-name', title: name }, h('span', { class: 'label', text: name }));
    if (caps.read) nameEl.addEventListener('click', () => opts.onOpen(f, nameEl));
    const actions = [];
    if (caps.read) {
      const dl = btn('download', 'Download');
      dl.addEventListener('click', () => opts.onDownload(f, dl));
      actions.push(dl);
    }
    const hist = btn('history', 'History');
    hist.addEventListener('click', () => opts.onHistory(f, hist));
    actions.push(hist);
    if (caps.write) {
      const ren = btn('rename', 'Rename');
      ren.addEventListener('click', () => opts.onRename(f, ren));
      const del = btn('delete', 'Delete', 'danger');
      del.addEventListener('click', () => opts.onBulkDelete([f], del));
      actions.push(ren, del);
    }
    const folder = f.path.slice(0, f.path.length - name.length);
    return h('tr', { class: ['file', f.conflicts.length && 'conflicted', selected.has(f.path) && 'selected'], 'data-path': f.path },
      h('td', { class: 'name' },
        h('span', { class: 'name-line' }, check, nameEl,
          f.conflicts.length ? h('span', { class: 'badge warn', text: 'Conflict' }) : null),
        showFolder ? h('span', { class: 'muted small in-folder', text: `in ${folder}` }) : null),
      h('td', { class: 'num', text: fmt.bytes(f.size) }),
      h('td', {}, h('time', { dateTime: new Date(f.modified_ms).toISOString(), title: fmt.when(f.modified_ms), text: fmt.ago(f.modified_ms) })),
      h('td', { class: 'actions-cell' }, actions));
  }

  return {
    element,
    /** Show the skeleton instead of the table (first load). */
    showLoading(node) {
      loading.replaceChildren(node);
      table.hidden = true;
    },
    show(next) {
      model = next;
      loading.replaceChildren();
      table.hidden = false;
      draw();
    },
    clearSelection() {
      selected.clear();
      draw();
    },
  };
}
