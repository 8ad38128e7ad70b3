// The music player: one <audio> element for the whole session, streaming a
// vault file with `?token=` (the stream route serves Range), a queue, and
// a bar fixed at the bottom of the window that stays while pages change.
// Play events: `play` once a track has played 30 s or half its length,
// `skip` when it is left earlier; the daemon counts them (library_plays).

import { api, tokenUrl, encodePath } from './api.js';
import { h, fill, uid } from './dom.js';
import { explain } from './errors.js';

const PLAY_AFTER_MS = 30_000;

/** 83_000 → "1:23"; 3_723_000 → "1:02:03"; unknown → "–:––". */
export function clockTime(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–:––';
  const s = Math.floor(ms / 1000);
  const hrs = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return hrs ? `${hrs}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** The URL that streams a song's file (for <audio>/<video> src). */
export function streamUrl(vaultId, path) {
  return tokenUrl(`/vaults/${encodeURIComponent(vaultId)}/stream${encodePath(path)}`);
}

/** The URL of a stored cover, or null. */
export function coverUrl(vaultId, hash) {
  if (!vaultId || !hash) return null;
  return tokenUrl(`/vaults/${encodeURIComponent(vaultId)}/cover/${encodeURIComponent(hash)}`);
}

const NS = 'http://www.w3.org/2000/svg';

/** A placeholder for a missing cover: a note on a tint made from `seed`. */
export function coverPlaceholder(seed = '', cls = '') {
  let hash = 0;
  for (const ch of String(seed)) hash = (hash * 31 + ch.codePointAt(0)) % 360;
  const box = h('span', { class: ['cover', 'cover-none', cls], 'aria-hidden': 'true' });
  box.style.setProperty('--hue', String(hash));
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'cover-note');
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', 'M9 17.5a2.5 2.5 0 1 1-2-2.45V5.5l11-2v11a2.5 2.5 0 1 1-2-2.45V7.3l-7 1.27z');
  svg.append(path);
  box.append(svg);
  return box;
}

/**
 * A cover image (lazy) for a vault/hash, or the placeholder; `alt` is ''
 * when the title is shown next to it. Broken images become placeholders.
 */
export function coverImage(vaultId, hash, { alt = '', seed = '', cls = '', eager = false } = {}) {
  const src = coverUrl(vaultId, hash);
  if (!src) return coverPlaceholder(seed, cls);
  const img = h('img', {
    class: ['cover', cls], src, alt, loading: eager ? 'eager' : 'lazy', decoding: 'async', width: 200, height: 200,
  });
  img.addEventListener('error', () => img.replaceWith(coverPlaceholder(seed, cls)), { once: true });
  return img;
}

/** "Title" of a song, never empty. */
export function songTitle(s) {
  if (s.title) return s.title;
  const name = (s.path || '').split('/').pop() || 'Untitled';
  return name.replace(/\.[^.]+$/, '');
}

/** "Artist" of a song, or a word for none. */
export function songArtist(s) {
  return s.artist || s.album_artist || 'Unknown artist';
}

// ---------------------------------------------------------------- state

const audio = new Audio();
audio.preload = 'auto';
audio.id = 'player-audio';
let queue = []; // songs
let index = -1;
let listened = 0; // ms actually played of the current track
let lastTime = 0;
let reported = false;
let loadError = null;
const listeners = new Set();
const pendingEvents = [];

/** fn({queue, index, song, playing}) on every change of track or state. */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit() {
  const state = { queue: [...queue], index, song: queue[index] || null, playing: !audio.paused };
  for (const fn of listeners) {
    try {
      fn(state);
    } catch (err) {
      console.error(err);
    }
  }
  draw();
}

/** The song playing (or paused) now, or null. */
export function current() {
  return queue[index] || null;
}

export function isPlaying() {
  return !audio.paused && !!current();
}

function durationMs(song) {
  if (Number.isFinite(audio.duration) && audio.duration > 0) return audio.duration * 1000;
  return song?.duration_ms || null;
}

async function sendEvents() {
  if (!pendingEvents.length) return;
  const events = pendingEvents.splice(0, pendingEvents.length);
  try {
    await api.post('/play-events', { events });
  } catch (err) {
    // Not answering: keep them for the next attempt (a few at most).
    if (err.status === 0) pendingEvents.unshift(...events.slice(-20));
  }
}

function report(kind) {
  const song = current();
  if (!song || !song.file_id || reported) return;
  reported = true;
  pendingEvents.push({
    vault_id: song.vault_id, file_id: song.file_id, kind,
    position_ms: Math.round(audio.currentTime * 1000), ts_ms: Date.now(),
  });
  sendEvents();
}

/** Leaving the current track: a skip when it was heard but not "played". */
function leave() {
  if (current() && !reported && listened > 0) report('skip');
}

function load(i, autoplay = true) {
  leave();
  index = i;
  listened = 0;
  lastTime = 0;
  reported = false;
  loadError = null;
  const song = queue[index];
  if (!song) {
    audio.removeAttribute('src');
    audio.load();
    emit();
    return;
  }
  audio.src = streamUrl(song.vault_id, song.path);
  if (autoplay) audio.play().catch(() => {});
  mediaSession(song);
  ensureBar();
  emit();
}

audio.addEventListener('timeupdate', () => {
  const t = audio.currentTime;
  const delta = t - lastTime;
  // Only time actually heard: seeks jump and are not counted.
  if (delta > 0 && delta < 2 && !audio.paused) listened += delta * 1000;
  lastTime = t;
  const total = durationMs(current());
  const need = total ? Math.min(PLAY_AFTER_MS, total / 2) : PLAY_AFTER_MS;
  if (!reported && listened >= need) report('play');
  drawTime();
});
audio.addEventListener('seeked', () => { lastTime = audio.currentTime; });
audio.addEventListener('ended', () => {
  if (!reported) report('play');
  if (index + 1 < queue.length) load(index + 1);
  else emit();
});
for (const type of ['play', 'pause', 'durationchange', 'loadedmetadata']) audio.addEventListener(type, () => emit());
audio.addEventListener('error', () => {
  if (!current()) return;
  loadError = audio.error;
  emit();
});

// ---------------------------------------------------------------- actions

/** Replace the queue with `songs` and play from `start`. */
export function playList(songs, start = 0) {
  if (!songs.length) return;
  leave();
  reported = true; // the old track is settled
  queue = [...songs];
  load(start);
}

/** Play `song` right after the current one (now, when nothing plays). */
export function playNext(song) {
  if (!current()) return playList([song]);
  queue.splice(index + 1, 0, song);
  emit();
  announce(`${songTitle(song)} plays next.`);
  return undefined;
}

/** Add songs at the end of the queue (play them when nothing plays). */
export function addToQueue(songs) {
  if (!songs.length) return;
  if (!current()) {
    playList(songs);
    return;
  }
  queue.push(...songs);
  emit();
  announce(songs.length === 1 ? `${songTitle(songs[0])} added to the queue.` : `${songs.length} songs added to the queue.`);
}

/** Shuffle what comes after the current track; or play `songs` shuffled. */
export function shuffle(songs) {
  const mix = (list) => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = Math.floor(Math.random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  if (songs) {
    playList(mix(songs));
    return;
  }
  if (!current()) return;
  queue = [...queue.slice(0, index + 1), ...mix(queue.slice(index + 1))];
  emit();
  announce('The rest of the queue is shuffled.');
}

/** A radio from `song`: the seed, then what the library finds like it. */
export async function radio(song, onlyLocal = false) {
  const res = await api.post(`/library/radio${onlyLocal ? '?only_local=true' : ''}`,
    { vault_id: song.vault_id, file_id: song.file_id });
  playList([res.seed || song, ...(res.songs || [])]);
  announce(`Radio from ${songTitle(song)}: ${(res.songs || []).length} songs queued.`);
}

export function toggle() {
  if (!current()) return;
  if (audio.paused) audio.play().catch(() => {});
  else audio.pause();
}

export function next() {
  if (index + 1 < queue.length) load(index + 1);
}

export function previous() {
  if (audio.currentTime > 3 || index <= 0) {
    audio.currentTime = 0;
    return;
  }
  load(index - 1);
}

/** Jump to queue entry `i`. */
export function jump(i) {
  if (i >= 0 && i < queue.length) load(i);
}

function removeAt(i) {
  if (i === index) {
    leave();
    reported = true;
    queue.splice(i, 1);
    if (index < queue.length) load(index, !audio.paused);
    else stop();
    return;
  }
  queue.splice(i, 1);
  if (i < index) index -= 1;
  emit();
}

/** Stop and forget the queue (logout, or the person closes the bar). */
export function stop() {
  leave();
  audio.pause();
  queue = [];
  index = -1;
  audio.removeAttribute('src');
  audio.load();
  if (bar) {
    bar.hidden = true;
    document.body.classList.remove('has-player');
    queuePanel.hidden = true;
  }
  emit();
}

/** Update a song's play count etc. where it sits in the queue. */
export function refreshSongs(songs) {
  const byId = new Map(songs.map((s) => [`${s.vault_id}/${s.file_id}`, s]));
  let changed = false;
  queue = queue.map((s) => {
    const fresh = byId.get(`${s.vault_id}/${s.file_id}`);
    if (fresh && fresh !== s) changed = true;
    return fresh || s;
  });
  if (changed) draw();
}

function mediaSession(song) {
  if (!('mediaSession' in navigator)) return;
  try {
    const cover = coverUrl(song.vault_id, song.cover_hash);
    navigator.mediaSession.metadata = new MediaMetadata({
      title: songTitle(song), artist: songArtist(song), album: song.album || '',
      artwork: cover ? [{ src: cover }] : [],
    });
  } catch {
    /* not supported here */
  }
}
if ('mediaSession' in navigator) {
  const handlers = { play: toggle, pause: toggle, previoustrack: previous, nexttrack: next };
  for (const [action, fn] of Object.entries(handlers)) {
    try {
      navigator.mediaSession.setActionHandler(action, fn);
    } catch {
      /* not supported here */
    }
  }
}

// ---------------------------------------------------------------- the bar

let bar = null;
let queuePanel = null;
let els = {};
let seeking = false;

/** Say something to screen readers from the bar's status line. */
function announce(text) {
  ensureBar();
  els.status.textContent = '';
  // A fresh text node each time, so repeats are read.
  setTimeout(() => { els.status.textContent = text; }, 50);
}

function ensureBar() {
  if (bar) {
    if (current()) {
      bar.hidden = false;
      document.body.classList.add('has-player');
    }
    return;
  }
  const titleId = uid('p');
  const btn = (action, label, text) => h('button', {
    type: 'button', class: ['player-button', `player-${action}`], 'data-action': action, 'aria-label': label, title: label,
  }, icon(text));
  els = {
    cover: h('span', { class: 'player-cover' }),
    title: h('span', { class: 'player-title', id: titleId }),
    artist: h('span', { class: 'player-artist' }),
    prev: btn('previous', 'Previous track', 'prev'),
    play: btn('play', 'Play', 'play'),
    next: btn('next', 'Next track', 'next'),
    shuffle: btn('shuffle', 'Shuffle the rest of the queue', 'shuffle'),
    queue: btn('queue', 'Queue', 'queue'),
    close: btn('close', 'Stop and close the player', 'close'),
    seek: h('input', { type: 'range', class: 'player-seek', min: 0, max: 0, step: 1, value: 0, 'aria-label': 'Position in the track' }),
    elapsed: h('span', { class: 'player-time', text: '0:00' }),
    total: h('span', { class: 'player-time', text: '–:––' }),
    status: h('p', { class: 'sr-only', role: 'status' }),
    error: h('p', { class: 'player-error', role: 'alert', hidden: true }),
  };
  els.queue.setAttribute('aria-expanded', 'false');
  els.queue.setAttribute('aria-controls', 'player-queue');
  els.prev.addEventListener('click', previous);
  els.play.addEventListener('click', toggle);
  els.next.addEventListener('click', next);
  els.shuffle.addEventListener('click', () => shuffle());
  els.close.addEventListener('click', () => stop());
  els.queue.addEventListener('click', () => {
    queuePanel.hidden = !queuePanel.hidden;
    els.queue.setAttribute('aria-expanded', String(!queuePanel.hidden));
    drawQueue();
    if (!queuePanel.hidden) queuePanel.querySelector('[aria-current="true"]')?.focus();
  });
  els.seek.addEventListener('input', () => {
    seeking = true;
    els.elapsed.textContent = clockTime(Number(els.seek.value) * 1000);
    els.seek.setAttribute('aria-valuetext', `${clockTime(Number(els.seek.value) * 1000)} of ${clockTime(durationMs(current()))}`);
  });
  els.seek.addEventListener('change', () => {
    seeking = false;
    audio.currentTime = Number(els.seek.value);
  });
  const queueTitle = uid('q');
  queuePanel = h('section', { id: 'player-queue', class: 'queue-panel', 'aria-labelledby': queueTitle, hidden: true },
    h('div', { class: 'queue-panel-head' },
      h('h2', { id: queueTitle, text: 'Queue' }),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close the queue', text: '×',
        on: { click: () => { queuePanel.hidden = true; els.queue.setAttribute('aria-expanded', 'false'); els.queue.focus(); } } })),
    h('ol', { class: 'queue-panel-list' }));
  queuePanel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      queuePanel.hidden = true;
      els.queue.setAttribute('aria-expanded', 'false');
      els.queue.focus();
    }
  });
  bar = h('section', { id: 'player', class: 'player', 'aria-label': 'Music player', hidden: true },
    queuePanel,
    h('div', { class: 'player-row' },
      els.cover,
      h('div', { class: 'player-now' }, els.title, els.artist),
      h('div', { class: 'player-controls' }, els.prev, els.play, els.next),
      h('div', { class: 'player-progress' }, els.elapsed, els.seek, els.total),
      h('div', { class: 'player-extra' }, els.shuffle, els.queue, els.close)),
    els.error, els.status, audio);
  document.body.append(bar);
  if (current()) {
    bar.hidden = false;
    document.body.classList.add('has-player');
  }
}

const ICONS = {
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
  prev: 'M6 6h2v12H6zm3.5 6 8.5 6V6z',
  next: 'M16 6h2v12h-2zM6 18l8.5-6L6 6z',
  shuffle: 'M10.6 9.2 5.4 4 4 5.4l5.2 5.2zM14.5 4l2 2L4 18.6 5.4 20 18 7.5l2 2V4zm.3 9.4-1.4 1.4 3.1 3.1-2 2H20v-5.5l-2 2z',
  queue: 'M3 6h12v2H3zm0 4h12v2H3zm0 4h8v2H3zm13 0v6l5-3z',
  close: 'M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6z',
};

function icon(name) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

function drawTime() {
  if (!bar) return;
  const total = durationMs(current());
  if (!seeking) {
    els.seek.max = total ? String(Math.floor(total / 1000)) : '0';
    els.seek.value = String(Math.floor(audio.currentTime));
    els.elapsed.textContent = clockTime(audio.currentTime * 1000);
    els.seek.setAttribute('aria-valuetext', `${clockTime(audio.currentTime * 1000)} of ${clockTime(total)}`);
  }
  els.total.textContent = clockTime(total);
}

let coverKey = null;
function draw() {
  if (!bar) return;
  const song = current();
  if (!song) {
    bar.hidden = true;
    document.body.classList.remove('has-player');
    return;
  }
  bar.hidden = false;
  document.body.classList.add('has-player');
  els.title.textContent = songTitle(song);
  els.title.title = songTitle(song);
  els.artist.textContent = [songArtist(song), song.album].filter(Boolean).join(' · ');
  const key = `${song.vault_id}/${song.cover_hash}/${song.album_key || song.album}`;
  if (key !== coverKey) {
    coverKey = key;
    fill(els.cover, coverImage(song.vault_id, song.cover_hash, { seed: song.album || song.title, eager: true }));
  }
  const playing = !audio.paused;
  els.play.setAttribute('aria-label', playing ? 'Pause' : 'Play');
  els.play.title = playing ? 'Pause' : 'Play';
  els.play.dataset.state = playing ? 'playing' : 'paused';
  els.play.replaceChildren(icon(playing ? 'pause' : 'play'));
  els.prev.disabled = false;
  els.next.disabled = index + 1 >= queue.length;
  els.shuffle.disabled = index + 2 >= queue.length;
  els.error.hidden = !loadError;
  els.error.textContent = loadError ? `“${songTitle(song)}” could not be played: ${mediaErrorText(loadError)}` : '';
  drawTime();
  if (!queuePanel.hidden) drawQueue();
}

function mediaErrorText(err) {
  if (!err) return '';
  if (err.code === 4) return 'this browser cannot play this kind of file, or Holdfast refused it.';
  if (err.code === 2) return 'the connection to Holdfast broke off.';
  return explain(err.message || 'it failed to load.');
}

function drawQueue() {
  const list = queuePanel.querySelector('ol');
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
  if (!queue.length) {
    fill(list, h('li', { class: 'empty', text: 'The queue is empty.' }));
    return;
  }
  fill(list, queue.map((s, i) => {
    const name = `${songTitle(s)} — ${songArtist(s)}`;
    const go = h('button', {
      type: 'button', class: 'link-button queue-item', 'data-focus': `go-${i}`,
      'aria-current': i === index ? 'true' : null,
    }, h('span', { class: 'queue-title', text: songTitle(s) }), h('span', { class: 'muted small', text: songArtist(s) }));
    go.addEventListener('click', () => jump(i));
    const remove = h('button', {
      type: 'button', class: 'icon-button', 'data-focus': `rm-${i}`, 'aria-label': `Remove ${name} from the queue`, text: '×',
    });
    remove.addEventListener('click', () => removeAt(i));
    return h('li', { class: i === index ? 'now' : null, 'data-index': String(i) }, go, remove);
  }));
  if (focused) list.querySelector(`[data-focus="${focused}"]`)?.focus();
}
