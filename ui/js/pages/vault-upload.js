// Uploads on a vault page: files or whole folders (a webkitdirectory
// picker, or folders dropped on the drop zone, read with
// webkitGetAsEntry), keeping their relative paths under the folder shown.
// Before anything is sent, the batch is checked against the vault's quota.
// One overall bar (bytes-weighted, with the time left) and a row per file
// in flight; failed files stay listed with the reason.

import { upload } from '../api.js';
import { h } from '../dom.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';

const PARALLEL_UPLOADS = 2;

/** Every file under a dropped directory entry, with its path from the drop. */
export async function walk(entry) {
  if (entry.isFile) {
    const file = await new Promise((ok, fail) => entry.file(ok, fail));
    return [{ file, rel: entry.fullPath.replace(/^\/+/, '') }];
  }
  const reader = entry.createReader();
  const children = [];
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) break;
    children.push(...batch);
  }
  const nested = await Promise.all(children.map(walk));
  return nested.flat();
}

/**
 * opts: { vaultId, prefix() → '/…/', vault() → vault JSON, live() → live
 * files, onDone() }. Returns { element, setAllowed(bool) }.
 */
export function uploader(opts) {
  const input = h('input', { type: 'file', id: 'upload-input', multiple: true, class: 'file-input' });
  const folderInput = h('input', { type: 'file', id: 'upload-folder-input', multiple: true, class: 'file-input' });
  folderInput.webkitdirectory = true;
  const target = h('span', { class: 'drop-target' });
  const dropZone = h('div', { id: 'drop-zone', class: 'drop-zone' },
    h('p', {}, h('strong', { text: 'Drop files or folders here' }), target),
    h('div', { class: 'pickers' },
      h('p', {}, h('label', { for: 'upload-input', text: 'Choose files: ' }), input),
      h('p', {}, h('label', { for: 'upload-folder-input', text: 'Choose a folder: ' }), folderInput)));
  const overallBar = h('progress', { id: 'upload-progress', max: 1, value: 0, 'aria-labelledby': 'upload-status' });
  const overallText = h('p', { id: 'upload-status', class: 'small', 'aria-live': 'polite' });
  const cancelAll = h('button', { type: 'button', id: 'upload-cancel', class: 'link-button', text: 'Cancel the rest' });
  const overall = h('div', { id: 'upload-overall', class: 'upload-overall', hidden: true },
    h('div', { class: 'upload-overall-head' }, overallText, cancelAll), overallBar);
  const list = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  const failures = h('ul', { class: 'upload-failures', id: 'upload-failures', 'aria-label': 'Files that did not upload' });
  const element = h('div', { class: 'uploader' }, dropZone, overall, list, failures);

  const queue = [];
  let running = 0;
  // The batch the overall bar describes: reset when everything is done.
  let batch = { jobs: [], total: 0, started: 0 };
  let hideTimer = null;

  function describeTarget() {
    const p = opts.prefix();
    target.textContent = ` to upload into ${p === '/' ? 'the top folder' : p}`;
  }

  /** Refuse a batch that cannot fit, before a byte is sent. */
  function fits(items) {
    const v = opts.vault();
    if (!v.hard_quota) return true;
    const live = new Map(opts.live().map((f) => [f.path, f.size]));
    let adding = 0;
    for (const { file, path } of items) adding += file.size - (live.get(path) || 0);
    const free = Math.max(0, v.hard_quota - v.byte_count);
    if (adding <= free) return true;
    inlineError(dropZone, `${items.length === 1 ? 'This file needs' : `These ${items.length} files need`} ${fmt.bytes(adding)}, `
      + `but only ${fmt.bytes(free)} is free in this vault (its limit is ${fmt.bytes(v.hard_quota)}). Nothing was uploaded. `
      + 'Free some space or raise the limit in Settings below.');
    return false;
  }

  function enqueue(entries) {
    const prefix = opts.prefix();
    const items = entries.map(({ file, rel }) => ({ file, path: `${prefix}${rel || file.name}` }));
    if (!items.length) return;
    clearInlineError(dropZone);
    if (!fits(items)) return;
    if (!running && !queue.length) {
      batch = { jobs: [], total: 0, started: Date.now() };
      failures.replaceChildren();
    }
    for (const { file, path } of items) {
      const label = path.slice(prefix.length);
      const bar = h('progress', { class: 'upload-progress', max: Math.max(1, file.size), value: 0, 'aria-label': `Uploading ${label}` });
      const state = h('span', { class: 'muted small', text: 'Waiting' });
      const cancel = h('button', { type: 'button', class: 'icon-button', text: '×', 'aria-label': `Cancel ${label}` });
      const row = h('li', { class: 'upload', 'data-path': path },
        h('span', { class: 'upload-name', title: label, text: label }), bar, state, cancel);
      const job = { file, path, label, bar, state, row, cancel, abort: null, cancelled: false, loaded: 0, done: false };
      cancel.addEventListener('click', () => {
        job.cancelled = true;
        if (job.abort) job.abort();
        else end(job);
      });
      batch.jobs.push(job);
      batch.total += file.size;
      queue.push(job);
    }
    showOverall();
    pump();
  }

  function showOverall() {
    const jobs = batch.jobs;
    const live = jobs.filter((j) => !j.cancelled);
    const total = live.reduce((n, j) => n + j.file.size, 0);
    const loaded = live.reduce((n, j) => n + (j.done ? j.file.size : j.loaded), 0);
    const finished = live.filter((j) => j.done).length;
    overall.hidden = false;
    overallBar.max = Math.max(1, total);
    overallBar.value = loaded;
    const elapsed = Date.now() - batch.started;
    let left = '';
    if (loaded > 0 && loaded < total && elapsed > 1000) {
      left = ` · about ${fmt.duration(((total - loaded) / loaded) * elapsed)} left`;
    }
    const failed = jobs.filter((j) => j.failed).length;
    const allDone = !running && !queue.length;
    overallText.textContent = allDone
      ? `Uploaded ${finished - failed} of ${live.length} ${live.length === 1 ? 'file' : 'files'}${failed ? ` · ${failed} failed` : ''}.`
      : `Uploading ${finished + 1 > live.length ? live.length : finished + 1} of ${live.length} ${live.length === 1 ? 'file' : 'files'} · `
        + `${fmt.bytes(loaded)} of ${fmt.bytes(total)}${left}`;
    overall.classList.toggle('done', allDone);
    cancelAll.hidden = allDone;
    clearTimeout(hideTimer);
    if (allDone && !failed) hideTimer = setTimeout(() => { overall.hidden = running > 0 || queue.length > 0 ? overall.hidden : true; }, 10_000);
  }

  function end(job) {
    job.done = true;
    job.row.remove();
    showOverall();
  }

  function fail(job, err) {
    job.failed = true;
    job.done = true;
    job.row.remove();
    failures.append(h('li', { class: 'upload failed', 'data-path': job.path },
      h('strong', { class: 'upload-name', title: job.label, text: job.label }), ': ', explain(err)));
    showOverall();
  }

  function pump() {
    while (running < PARALLEL_UPLOADS && queue.length) {
      const job = queue.shift();
      if (job.cancelled) continue;
      running += 1;
      list.append(job.row);
      job.state.textContent = 'Uploading';
      const task = upload(opts.vaultId, job.path, job.file, (loaded, total) => {
        job.loaded = Math.min(loaded, job.file.size);
        job.bar.max = Math.max(1, total);
        job.bar.value = loaded;
        job.state.textContent = `${fmt.bytes(loaded)} of ${fmt.bytes(total)}`;
        showOverall();
      });
      job.abort = task.abort;
      task.promise.then(() => {
        end(job);
        opts.onDone();
      }, (err) => {
        if (err.status === -1) {
          job.cancelled = true;
          end(job);
        } else fail(job, err);
      }).finally(() => {
        running -= 1;
        pump();
        showOverall();
      });
    }
  }

  // Files still waiting are dropped; those under way are aborted.
  cancelAll.addEventListener('click', () => {
    for (const job of batch.jobs) {
      if (job.done) continue;
      job.cancelled = true;
      if (job.abort) job.abort();
    }
    queue.length = 0;
    showOverall();
  });

  input.addEventListener('change', () => {
    enqueue([...input.files].map((file) => ({ file })));
    input.value = '';
  });
  folderInput.addEventListener('change', () => {
    enqueue([...folderInput.files].map((file) => ({ file, rel: file.webkitRelativePath || file.name })));
    folderInput.value = '';
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
  dropZone.addEventListener('drop', async (e) => {
    e.preventDefault();
    dropZone.classList.remove('dragging');
    const items = [...(e.dataTransfer?.items || [])];
    const entries = items.map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
    try {
      if (entries.length) enqueue((await Promise.all(entries.map(walk))).flat());
      else enqueue([...(e.dataTransfer?.files || [])].map((file) => ({ file })));
    } catch (err) {
      inlineError(dropZone, `The dropped folder could not be read: ${err.message || err}`);
    }
  });

  return {
    element,
    describeTarget,
    setAllowed(allowed) {
      dropZone.hidden = !allowed;
    },
  };
}
