// The preview dialog of a vault page (#preview-dialog): images are shown
// from a blob: URL (the CSP allows blob: images), text as text (the first
// 256 KiB, never as HTML). PDFs cannot be shown: the page's CSP forbids
// frames and objects, so the dialog says so and offers a download. Videos
// play in the video player (video-player.js); audio files play in the
// music player bar (player.js).

import { api, getToken, encodePath, saveBlob, ApiError } from '../api.js';
import { videoPlayer, VIDEO_EXTENSIONS } from '../video-player.js';
import * as player from '../player.js';
import { h } from '../dom.js';
import { inlineError } from '../errors.js';
import * as fmt from '../format.js';

const TEXT_BYTES = 256 * 1024;
const IMAGE_MAX_BYTES = 64 * 1024 * 1024;
const AUDIO = new Set(['mp3', 'flac', 'ogg', 'oga', 'opus', 'm4a', 'aac', 'wav', 'wma', 'aif', 'aiff', 'ape', 'wv', 'mpc']);
const IMAGES = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  avif: 'image/avif', bmp: 'image/bmp', ico: 'image/x-icon', svg: 'image/svg+xml',
};

function extension(path) {
  const name = fmt.baseName(path);
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** What kind of preview a file gets: 'image', 'video', 'audio', 'pdf' or 'text'. */
export function previewKind(path) {
  const ext = extension(path);
  if (IMAGES[ext]) return 'image';
  if (VIDEO_EXTENSIONS.has(ext)) return 'video';
  if (AUDIO.has(ext)) return 'audio';
  if (ext === 'pdf') return 'pdf';
  // Anything else is looked at: text shows as text, the rest is refused.
  return 'text';
}

async function fetchBytes(vaultId, path, range) {
  const url = `/api/v1/vaults/${encodeURIComponent(vaultId)}/stream${encodePath(path)}`;
  const headers = { authorization: `Bearer ${getToken()}` };
  if (range) headers.range = range;
  let response;
  try {
    response = await fetch(url, { headers });
  } catch {
    throw new ApiError(0, 'Holdfast is not answering.');
  }
  if (!response.ok && response.status !== 206) {
    let body = {};
    try {
      body = await response.json();
    } catch {
      body = {};
    }
    throw new ApiError(response.status, body.error || `HTTP ${response.status}`, body);
  }
  return response.arrayBuffer();
}

/** Make the dialog once per page: open(file, opener). */
export function previewDialog(vaultId, onDownload) {
  const title = h('h2', { id: 'preview-title' });
  const body = h('div', { class: 'preview-body' });
  const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', text: '×' });
  const save = h('button', { type: 'button', 'data-action': 'download', text: 'Download' });
  const meta = h('p', { class: 'muted small' });
  const dialog = h('dialog', { id: 'preview-dialog', class: 'preview-dialog', 'aria-labelledby': 'preview-title' },
    h('div', { class: 'dialog-head' }, title, close), meta, body, h('div', { class: 'actions end' }, save));
  let url = null;
  let current = null;
  let returnFocus = null;
  let generation = 0;
  let dispose = null; // stops what plays in the dialog
  close.addEventListener('click', () => dialog.close());
  save.addEventListener('click', () => current && onDownload(current, save));
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) dialog.close();
  });
  dialog.addEventListener('close', () => {
    generation += 1;
    dispose?.();
    dispose = null;
    body.replaceChildren();
    if (url) URL.revokeObjectURL(url);
    url = null;
    returnFocus?.focus();
  });

  async function fill(file) {
    const kind = previewKind(file.path);
    const name = fmt.baseName(file.path);
    if (kind === 'image') {
      if (file.size > IMAGE_MAX_BYTES) return [h('p', { text: `This picture is too large to preview here (${fmt.bytes(file.size)}). Download it to look at it.` })];
      const bytes = await fetchBytes(vaultId, file.path);
      url = URL.createObjectURL(new Blob([bytes], { type: IMAGES[extension(file.path)] }));
      return [h('img', { class: 'preview-image', src: url, alt: `Preview of ${name}` })];
    }
    if (kind === 'video') {
      const v = videoPlayer(vaultId, file);
      dispose = () => v.dispose();
      await v.ready;
      return [v.element];
    }
    if (kind === 'audio') return [audioPanel(file, name)];
    if (kind === 'pdf') {
      return [h('p', { class: 'callout', text: 'PDFs cannot be shown inside Holdfast: its page security forbids embedded documents. Download it to open it in your PDF reader.' })];
    }
    const partial = file.size > TEXT_BYTES;
    const bytes = file.size === 0 ? new ArrayBuffer(0)
      : await fetchBytes(vaultId, file.path, partial ? `bytes=0-${TEXT_BYTES - 1}` : null);
    let text;
    try {
      // A cut may split a character at the end: not fatal there.
      text = new TextDecoder('utf-8', { fatal: !partial }).decode(bytes);
    } catch {
      text = null;
    }
    if (text === null || !fmt.printable(text.replace(/\r/g, ''))) {
      return [h('p', { text: 'There is no preview for this kind of file. Download it to open it.' })];
    }
    return [
      partial ? h('p', { class: 'muted small', text: `Showing the first ${fmt.bytes(TEXT_BYTES)} of ${fmt.bytes(file.size)}.` }) : null,
      h('pre', { class: 'preview-text', tabIndex: 0, 'aria-label': `Text of ${name}`, text: text || '(empty file)' }),
    ];
  }

  /** An audio file: play it in the player bar (its library row when known). */
  function audioPanel(file, name) {
    const play = h('button', { type: 'button', class: 'primary', 'data-action': 'play-audio', text: `Play ${name}` });
    const queue = h('button', { type: 'button', 'data-action': 'queue-audio', text: 'Add to queue' });
    const song = async () => {
      try {
        const meta = await api.get(`/vaults/${encodeURIComponent(vaultId)}/meta${encodePath(file.path)}`);
        const e = meta.effective || {};
        return { ...e, vault_id: vaultId, file_id: meta.file_id, path: file.path, title: e.title || null, artist: e.artist || null };
      } catch {
        return { vault_id: vaultId, file_id: null, path: file.path, title: null };
      }
    };
    play.addEventListener('click', async () => player.playList([await song()]));
    queue.addEventListener('click', async () => player.addToQueue([await song()]));
    return h('div', { class: 'actions' },
      h('p', { class: 'muted', text: 'It plays in the player at the bottom of the window, which stays while you move between pages.' }),
      play, queue);
  }

  async function open(file, opener) {
    dispose?.();
    dispose = null;
    returnFocus = opener || null;
    current = file;
    generation += 1;
    const mine = generation;
    title.textContent = fmt.baseName(file.path);
    title.title = file.path;
    meta.textContent = `${file.path} · ${fmt.bytes(file.size)} · changed ${fmt.when(file.modified_ms)}`;
    body.replaceChildren(h('p', { class: 'muted', role: 'status', text: 'Loading preview…' }));
    if (!dialog.open) dialog.showModal();
    close.focus();
    try {
      const parts = await fill(file);
      if (mine === generation) body.replaceChildren(...parts.filter(Boolean));
    } catch (err) {
      if (mine !== generation) return;
      body.replaceChildren();
      inlineError(body, err);
    }
  }

  return { dialog, open };
}

