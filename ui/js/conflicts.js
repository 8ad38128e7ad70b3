// Conflicts a person can decide: a file changed in two places at once has
// two heads. The panel names each side for what it is ("This computer's
// folder" or "The web / another device"), with when, how big and where,
// previews both (a line diff for text, thumbnails for images), and offers
// three choices: keep this side, keep the other side, keep both (the other
// side is saved next to the original under a name that says where it came
// from). Counts of waiting conflicts (vault JSON `conflict_count`) are
// shown on Home, on each vault card and in the folder panel.

import { api, download, encodePath, getToken, ApiError } from './api.js';
import { h, busy, skeleton, facts } from './dom.js';
import { inlineError, clearInlineError } from './errors.js';
import { notify } from './alerts.js';
import * as fmt from './format.js';

/** Text sides larger than this are not compared. */
export const DIFF_MAX_BYTES = 256 * 1024;
export const DIFF_MAX_LINES = 2000;
/** Unchanged lines shown around each change. */
const CONTEXT = 3;

const IMAGE = /\.(png|jpe?g|gif|webp|avif|bmp|ico|svg)$/i;

/** "3 conflicts" / "1 conflict". */
export function conflictText(n) {
  return `${n} ${n === 1 ? 'conflict' : 'conflicts'}`;
}

/**
 * A warning badge linking to where conflicts are decided, or null when
 * there are none. `href` is the vault page.
 */
export function conflictBadge(n, href) {
  if (!n) return null;
  const text = `${conflictText(n)} to decide`;
  return href
    ? h('a', { class: 'badge warn conflict-count', href, text })
    : h('span', { class: 'badge warn conflict-count', text });
}

/** Who made a version, for people. */
export function sideOf(version) {
  if (version.origin === 'folder') {
    return { key: 'folder', title: "This computer's folder", device: 'This computer (its folder)', short: 'this computer' };
  }
  return { key: 'web', title: 'The web / another device', device: 'The web page, an app or another device', short: 'the web' };
}

/** The name keep-both gives the other side (the server decides; a preview). */
export function copyName(path, version) {
  const name = fmt.baseName(path);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const day = new Date(version.created_ms).toISOString().slice(0, 10);
  return `${stem} (conflict from ${sideOf(version).short} ${day})${ext}`;
}

// ---- Line diff -----------------------------------------------------------

/**
 * A line diff of a and b (arrays of strings): [{op: ' '|'-'|'+', text}].
 * Common prefix and suffix are trimmed, the middle is an LCS table (at
 * most DIFF_MAX_LINES² cells, 16 bits each).
 */
export function diffLines(a, b) {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const out = a.slice(0, start).map((text) => ({ op: ' ', text }));
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const n = x.length;
  const m = y.length;
  // lcs[i][j]: longest common subsequence of x[i..], y[j..].
  const width = m + 1;
  const lcs = new Uint16Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i * width + j] = x[i] === y[j]
        ? lcs[(i + 1) * width + j + 1] + 1
        : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      out.push({ op: ' ', text: x[i] });
      i += 1;
      j += 1;
    } else if (j < m && (i === n || lcs[i * width + j + 1] >= lcs[(i + 1) * width + j])) {
      out.push({ op: '+', text: y[j] });
      j += 1;
    } else {
      out.push({ op: '-', text: x[i] });
      i += 1;
    }
  }
  for (const text of a.slice(endA)) out.push({ op: ' ', text });
  return out;
}

function splitLines(text) {
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Bytes as text, or null if they do not look like text. */
function asText(bytes) {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

async function fetchVersion(vid, path, hash) {
  const url = new URL(`/api/v1/vaults/${vid}/version${encodePath(path)}`, location.origin);
  url.searchParams.set('content_hash', hash);
  let response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${getToken()}` } });
  } catch {
    throw new ApiError(0, 'Holdfast is not answering.');
  }
  if (!response.ok) {
    let body = {};
    try {
      body = await response.json();
    } catch { /* not JSON */ }
    throw new ApiError(response.status, body.error || `HTTP ${response.status}`, body);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** The diff as rows, long unchanged runs folded to their edges. */
function diffView(ops, left, right) {
  const rows = [];
  const changed = ops.map((o) => o.op !== ' ');
  const near = (k) => {
    for (let d = -CONTEXT; d <= CONTEXT; d += 1) if (changed[k + d]) return true;
    return false;
  };
  let folded = [];
  const line = (o) => {
    const cls = o.op === '-' ? 'del' : o.op === '+' ? 'add' : 'same';
    const sign = o.op === '-' ? '−' : o.op === '+' ? '+' : ' ';
    const where = o.op === '-' ? `Only in ${left}: ` : o.op === '+' ? `Only in ${right}: ` : '';
    rows.push(h('div', { class: `diff-line ${cls}` },
      h('span', { class: 'sign', 'aria-hidden': 'true', text: sign }),
      where ? h('span', { class: 'sr-only', text: where }) : null,
      h('span', { class: 'text', text: o.text || ' ' })));
  };
  // A run of one or two unchanged lines is shown rather than folded.
  const flush = () => {
    if (folded.length > 2) {
      rows.push(h('div', { class: 'diff-line fold', text: `… ${folded.length} unchanged lines` }));
    } else folded.forEach(line);
    folded = [];
  };
  ops.forEach((o, k) => {
    if (o.op === ' ' && !near(k)) {
      folded.push(o);
      return;
    }
    flush();
    line(o);
  });
  flush();
  const adds = ops.filter((o) => o.op === '+').length;
  const dels = ops.filter((o) => o.op === '-').length;
  return h('div', { class: 'diff-wrap' },
    h('p', { class: 'diff-legend small' },
      h('span', { class: 'diff-key del', text: `− ${dels} only in ${left}` }), ' ',
      h('span', { class: 'diff-key add', text: `+ ${adds} only in ${right}` })),
    h('div', { class: 'diff', role: 'region', tabIndex: 0, 'aria-label': `Differences between ${left} and ${right}` }, rows));
}

/**
 * The preview of both sides into `box`: a text diff, two thumbnails, or
 * facts only. Returns a cleanup function (revokes blob: URLs).
 */
async function preview(box, vid, path, a, b, la, lb) {
  const urls = [];
  const cleanup = () => urls.forEach((u) => URL.revokeObjectURL(u));
  if (a.deleted || b.deleted) {
    box.replaceChildren(h('p', { class: 'muted', text: 'One side deleted the file: there is nothing to compare.' }));
    return cleanup;
  }
  const image = IMAGE.test(path);
  if (!image && (a.size > DIFF_MAX_BYTES || b.size > DIFF_MAX_BYTES)) {
    box.replaceChildren(h('p', { class: 'muted', text: `Too large to compare here (over ${fmt.bytes(DIFF_MAX_BYTES)}). Download both sides to look at them.` }));
    return cleanup;
  }
  if (image && (a.size > 16 * DIFF_MAX_BYTES * 4 || b.size > 16 * DIFF_MAX_BYTES * 4)) {
    box.replaceChildren(h('p', { class: 'muted', text: 'These pictures are too large to preview here. Download both sides to look at them.' }));
    return cleanup;
  }
  box.replaceChildren(skeleton(4, 'Loading both sides…'));
  const [x, y] = await Promise.all([fetchVersion(vid, path, a.content_hash), fetchVersion(vid, path, b.content_hash)]);
  if (image) {
    const thumb = (bytes, label) => {
      const url = URL.createObjectURL(new Blob([bytes]));
      urls.push(url);
      // Once drawn, the picture no longer needs its URL.
      const img = h('img', { src: url, alt: `${label}: ${fmt.baseName(path)}` });
      const done = () => URL.revokeObjectURL(url);
      img.addEventListener('load', done, { once: true });
      img.addEventListener('error', done, { once: true });
      return h('figure', { class: 'thumb' }, img,
        h('figcaption', { class: 'small', text: label }));
    };
    box.replaceChildren(h('div', { class: 'thumbs' }, thumb(x, la), thumb(y, lb)));
    return cleanup;
  }
  const tx = asText(x);
  const ty = asText(y);
  if (tx === null || ty === null) {
    box.replaceChildren(h('p', { class: 'muted', text: 'No preview for this kind of file: compare the facts above, or download both sides.' }));
    return cleanup;
  }
  const lx = splitLines(tx);
  const ly = splitLines(ty);
  if (lx.length > DIFF_MAX_LINES || ly.length > DIFF_MAX_LINES) {
    box.replaceChildren(h('p', { class: 'muted', text: `Too large to compare here (over ${DIFF_MAX_LINES} lines). Download both sides to look at them.` }));
    return cleanup;
  }
  box.replaceChildren(diffView(diffLines(lx, ly), la, lb));
  return cleanup;
}

// ---- The panel -------------------------------------------------------------

/**
 * The conflict panel of one file, as a table row under the file's row:
 * <tr class="conflict-row" data-path> with one <li class="head"
 * data-hash> per side, each with a "keep" button, and a "keep both"
 * button. `onResolved()` runs after a choice went through (reload).
 */
export function conflictRow({ vaultId, file, onResolved, columns = 4 }) {
  const panel = conflictPanel({ vaultId, file, onResolved });
  return h('tr', { class: 'conflict-row', 'data-path': file.path },
    h('td', { colSpan: columns }, panel));
}

/** The panel itself (see conflictRow). */
export function conflictPanel({ vaultId, file, onResolved }) {
  const vid = encodeURIComponent(vaultId);
  const name = fmt.baseName(file.path);
  const hashes = [file.content_hash, ...file.conflicts.filter((c) => c !== file.content_hash)];
  const titleId = `conflict-${Math.random().toString(36).slice(2, 9)}`;
  const sides = h('ul', { class: 'heads' });
  const compare = h('div', { class: 'conflict-preview' });
  const choices = h('div', { class: 'actions conflict-choices' });
  const panel = h('div', { class: 'conflict-panel', role: 'group', 'aria-labelledby': titleId },
    h('h3', { id: titleId, class: 'conflict-title' }, h('span', { class: 'badge warn', text: 'Conflict' }), ' ',
      `“${name}” was changed in two places at once`),
    h('p', { class: 'muted small', text: 'Choose what to keep. Nothing is lost: the side you do not keep stays in the file’s history.' }),
    sides, compare, choices);
  let cleanup = () => {};
  let done = false;

  // Placeholder sides (the buttons work at once), refined once /info answers.
  const placeholder = hashes.map((hash, i) => ({
    content_hash: hash, size: i === 0 ? file.size : null, created_ms: i === 0 ? file.modified_ms : null,
    origin: i === 0 ? file.origin : null, deleted: false,
  }));
  render(placeholder, true);
  compare.append(skeleton(3, 'Loading the two sides…'));

  async function choose(button, body, message) {
    clearInlineError(choices);
    await busy(button, async () => {
      try {
        const res = await api.post(`/vaults/${vid}/resolve-conflict${encodePath(file.path)}`, body);
        done = true;
        cleanup();
        notify(res && res.kept_as ? `${message} The other side is now “${fmt.baseName(res.kept_as)}”.` : message);
        await onResolved();
      } catch (err) {
        inlineError(choices, err);
      }
    });
  }

  function render(heads, loading) {
    const labels = sideLabels(heads);
    sides.replaceChildren(...heads.map((v, i) => {
      const label = labels[i];
      const keep = h('button', { type: 'button', class: 'primary', 'data-action': 'keep', text: `Keep this side`,
        'aria-label': `Keep this side (${label.title}) of ${name}` });
      keep.addEventListener('click', () => choose(keep, { content_hash: v.content_hash },
        `Kept the version of ${name} from ${label.short}; the other stays in its history.`));
      const look = h('button', { type: 'button', 'data-action': 'download', text: 'Download',
        'aria-label': `Download this side (${label.title}) of ${name}` });
      look.addEventListener('click', () => busy(look, () => download(`/vaults/${vid}/version${encodePath(file.path)}`,
        name, { content_hash: v.content_hash }).catch((err) => inlineError(look, err))));
      return h('li', { class: ['head', `side-${label.key}`], 'data-hash': v.content_hash, 'data-side': label.key },
        h('h4', { class: 'side-title', text: label.title }),
        loading && v.size === null ? skeleton(2, 'Loading this side…') : facts([
          ['Changed', v.created_ms ? h('time', { dateTime: new Date(v.created_ms).toISOString(), text: `${fmt.when(v.created_ms)} (${fmt.ago(v.created_ms)})` }) : undefined],
          ['Size', v.deleted ? 'Deleted' : (v.size === null ? undefined : fmt.bytes(v.size))],
          ['From', label.device],
          ['Content', h('code', { class: 'muted', title: v.content_hash, text: fmt.shortHash(v.content_hash) })],
        ]),
        h('div', { class: 'actions' }, keep, look));
    }));
    // Keep both: the folder's side (or the newest) keeps the name.
    const live = heads.filter((v) => !v.deleted);
    const stays = heads.find((v) => v.origin === 'folder' && !v.deleted) || live[0];
    const other = live.find((v) => v !== stays && v.content_hash !== stays?.content_hash);
    choices.replaceChildren();
    if (stays && other) {
      const both = h('button', { type: 'button', 'data-action': 'keep-both', text: 'Keep both' });
      const copy = copyName(file.path, other);
      both.addEventListener('click', () => choose(both, { content_hash: stays.content_hash, keep_both: true },
        `Kept both versions of ${name}.`));
      choices.append(both, h('span', { class: 'muted small', text: loading ? ''
        : `${sideOf(other).title} is saved next to it as “${copy}”.` }));
    }
  }

  (async () => {
    let heads = placeholder;
    try {
      const info = await api.get(`/vaults/${vid}/info${encodePath(file.path)}`);
      const byHash = new Map();
      for (const v of info.versions) if (v.head && !byHash.has(v.content_hash)) byHash.set(v.content_hash, v);
      heads = hashes.map((hash, i) => byHash.get(hash) || placeholder[i]);
      if (done) return;
      render(heads, false);
    } catch (err) {
      if (done) return;
      compare.replaceChildren();
      inlineError(compare, err);
      return;
    }
    const labels = sideLabels(heads);
    try {
      cleanup = await preview(compare, vid, file.path, heads[0], heads[1], labels[0].title, labels[1].title);
      if (done || !panel.isConnected) cleanup();
    } catch (err) {
      compare.replaceChildren(h('p', { class: 'muted', text: 'The preview could not be loaded.' }));
      inlineError(compare, err);
    }
  })();

  return panel;
}

/** Side names; two sides from the same place get "(newer)"/"(older)". */
function sideLabels(heads) {
  const labels = heads.map((v) => ({ ...sideOf(v) }));
  if (labels.length > 1 && labels.every((l) => l.key === labels[0].key)) {
    labels.forEach((l, i) => {
      l.title = `${l.title} (${i === 0 ? 'newer' : 'older'})`;
    });
  }
  return labels;
}
