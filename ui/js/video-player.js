// The video player of a vault's preview dialog: a <video> streaming the
// file with `?token=` (Range), its subtitles as <track kind="subtitles">
// (WebVTT from the subtitle route, sidecar or embedded), the film's title,
// year, plot and poster when TMDB matched it, "Resume from m:ss" when it
// was left part-way, and a resume beat (video-play-event) every 10 s while
// it plays and on pause, end and close.

import { api, encodePath, getToken } from './api.js';
import { h, fill } from './dom.js';
import { explain } from './errors.js';
import * as fmt from './format.js';
import * as player from './player.js';
import { clockTime, streamUrl } from './player.js';

const BEAT_MS = 10_000;
export const VIDEO_EXTENSIONS = new Set(['mp4', 'm4v', 'mkv', 'webm', 'mov', 'avi', 'ogv']);

/** A subtitle `url` from video-tracks, made loadable by <track> (token added). */
function subtitleSrc(url) {
  let path = url;
  if (!/^\/api\//.test(path)) path = `/api/v1${path.startsWith('/') ? '' : '/'}${path}`;
  return `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(getToken() || '')}`;
}

/** Only images this page may load (its CSP allows this origin alone). */
function sameOrigin(url) {
  if (!url) return null;
  try {
    const u = new URL(url, location.origin);
    return u.origin === location.origin ? u.href : null;
  } catch {
    return null;
  }
}

const LANGS = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(undefined, { type: 'language' }) : null;
function languageName(code) {
  if (!code || code === 'und') return null;
  try {
    return LANGS?.of(code) || code;
  } catch {
    return code;
  }
}

/**
 * Build the player for `file` of vault `vaultId`. Returns {element, ready,
 * dispose}: `ready` settles once the metadata and tracks were asked for;
 * dispose() stops playback and sends the last resume point.
 */
export function videoPlayer(vaultId, file) {
  const vid = encodeURIComponent(vaultId);
  const path = encodePath(file.path);
  const name = fmt.baseName(file.path);
  const video = h('video', {
    class: 'video', controls: true, preload: 'metadata', playsInline: true,
    'aria-label': `Video: ${name}`,
  });
  video.src = streamUrl(vaultId, file.path);
  const info = h('div', { class: 'video-meta' });
  const resume = h('div', { class: 'video-resume', hidden: true });
  const tracksNote = h('div', { class: 'video-tracks-note muted small' });
  const error = h('p', { class: 'inline-error', role: 'alert', hidden: true });
  const element = h('div', { class: 'video-player' }, resume, video, error, info, tracksNote);

  let lastSent = -1;
  let timer = null;
  let disposed = false;

  function beat() {
    if (!Number.isFinite(video.currentTime)) return;
    const position = Math.round(video.currentTime * 1000);
    if (position === lastSent) return;
    lastSent = position;
    const body = { position_ms: position };
    if (Number.isFinite(video.duration) && video.duration > 0) body.duration_ms = Math.round(video.duration * 1000);
    api.post(`/vaults/${vid}/video-play-event${path}`, body).catch(() => {});
  }
  video.addEventListener('play', () => {
    resume.hidden = true;
    if (player.isPlaying()) player.toggle(); // one thing plays at a time
    clearInterval(timer);
    timer = setInterval(beat, BEAT_MS);
  });
  video.addEventListener('pause', () => {
    clearInterval(timer);
    if (!disposed && video.currentTime > 0) beat();
  });
  video.addEventListener('ended', () => {
    clearInterval(timer);
    beat();
  });
  video.addEventListener('error', () => {
    const code = video.error?.code;
    error.hidden = false;
    error.textContent = code === 4
      ? 'This browser cannot play this video (its format or codec). Download it to watch it in a video player.'
      : 'The video stopped loading: Holdfast may not be answering.';
  });

  function showMeta(meta) {
    if (!meta) {
      fill(info, h('h3', { text: name }));
      return;
    }
    const matched = meta.status === 'matched' || meta.overridden;
    const title = (matched && meta.title) || meta.parsed?.title || name;
    const year = (matched && meta.year) || meta.parsed?.year || null;
    const poster = matched ? sameOrigin(meta.poster_url) : null;
    const note = {
      no_key: 'Film details come from TMDB once its API key is set in Settings.',
      no_match: 'TMDB has no match for this file’s name.',
      pending: 'Looking up the film’s details…',
      error: meta.message ? `The TMDB lookup failed: ${meta.message}` : 'The TMDB lookup failed.',
    }[meta.status];
    fill(info,
      poster ? h('img', { src: poster, alt: `Poster of ${title}`, loading: 'lazy' }) : null,
      h('div', {},
        h('h3', { class: 'video-title', text: year ? `${title} (${year})` : title }),
        matched && meta.plot ? h('p', { class: 'video-plot', text: meta.plot }) : null,
        !matched && note ? h('p', { class: 'muted small', text: note }) : null));
    const r = meta.resume;
    const dur = r?.duration_ms || null;
    if (r && r.position_ms > 5000 && (!dur || r.position_ms < dur - Math.min(10_000, dur * 0.05))) {
      const at = clockTime(r.position_ms);
      const go = h('button', { type: 'button', class: 'primary', 'data-action': 'resume', text: `Resume from ${at}` });
      const over = h('button', { type: 'button', 'data-action': 'start-over', text: 'Start over' });
      go.addEventListener('click', () => {
        const seek = () => {
          video.currentTime = r.position_ms / 1000;
          video.play().catch(() => {});
        };
        if (video.readyState >= 1) seek();
        else video.addEventListener('loadedmetadata', seek, { once: true });
        resume.hidden = true;
        video.focus();
      });
      over.addEventListener('click', () => {
        video.currentTime = 0;
        video.play().catch(() => {});
        resume.hidden = true;
        video.focus();
      });
      fill(resume, h('p', { text: `You stopped at ${at}${dur ? ` of ${clockTime(dur)}` : ''}.` }), go, over);
      resume.hidden = false;
    }
  }

  function showTracks(tracks, err) {
    if (err) {
      fill(tracksNote, err.status === 404 ? null : `Subtitles could not be listed: ${explain(err)}`);
      return;
    }
    const subs = tracks.subtitles || [];
    subs.forEach((s, i) => {
      if (!s.url) return;
      const lang = languageName(s.language);
      const label = s.title || lang || `Subtitles ${i + 1}`;
      const track = h('track', { kind: 'subtitles', src: subtitleSrc(s.url), label });
      if (s.language && s.language !== 'und') track.srclang = s.language;
      video.append(track);
    });
    const items = subs.map((s, i) => {
      const lang = languageName(s.language);
      const label = s.title || lang || `Subtitles ${i + 1}`;
      return h('li', { text: `${label}${s.source === 'sidecar' ? ' (separate file)' : ' (in the video)'}` });
    });
    fill(tracksNote,
      subs.length ? h('p', { class: 'video-subs', text: 'Subtitles (choose them in the player’s menu):' }) : null,
      subs.length ? h('ul', { class: 'video-tracks' }, items) : null,
      !subs.length ? h('p', { text: 'No subtitles found for this video.' }) : null,
      tracks.probe === 'unavailable' ? h('p', { text: 'Tracks inside the video are not listed: ffprobe is not installed on this computer.' }) : null);
  }

  const ready = Promise.all([
    api.get(`/vaults/${vid}/video-meta${path}`).then(showMeta, () => showMeta(null)),
    api.get(`/vaults/${vid}/video-tracks${path}`).then((t) => showTracks(t), (err) => showTracks(null, err)),
  ]);

  return {
    element,
    ready,
    dispose() {
      if (disposed) return;
      clearInterval(timer);
      if (!video.paused || video.currentTime > 0) beat();
      disposed = true;
      video.pause();
      video.removeAttribute('src');
      video.load();
    },
  };
}
