// Music: the library across every vault. `#/music` (albums), `#/music/
// artists`, `#/music/songs`, `#/music/album:<key>` and `#/music/artist:
// <name>`. A search box (debounced, /library/search), a "fully on this
// computer" switch, album covers (lazy, a placeholder when none), play
// counts, and the player (player.js) that stays while pages change: play
// an album, play next, add to the queue, shuffle, radio from a track.
// Live: the view reloads on `library_changed` and `library_plays`; a scan
// shows its progress from `media_scan_progress`.

import { api } from '../api.js';
import { h, fill, pageTitle, empty, busy, uid, skeleton, searchAsYouType } from '../dom.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';
import * as player from '../player.js';
import { clockTime, coverImage, songTitle, songArtist } from '../player.js';

const LOCAL_KEY = 'holdfast.music.fully_local';
const ALBUM_PAGE = 60;
const SONG_PAGE = 100;
const TABS = [['albums', 'Albums'], ['artists', 'Artists'], ['songs', 'Songs']];
const ALBUM_SORTS = [['title', 'Title'], ['artist', 'Artist'], ['year', 'Year'], ['recent', 'Recently added']];
const SONG_SORTS = [['title', 'Title', 'asc'], ['artist', 'Artist', 'asc'], ['album', 'Album', 'asc'], ['year', 'Year', 'desc'],
  ['added', 'Recently added', 'desc'], ['plays', 'Most played', 'desc'], ['duration', 'Length', 'desc']];

const fullyLocal = () => localStorage.getItem(LOCAL_KEY) === 'true';
const albumHref = (key) => `#/music/${encodeURIComponent(`album:${key}`)}`;
const artistHref = (name) => `#/music/${encodeURIComponent(`artist:${name}`)}`;
const songKey = (s) => `${s.vault_id}/${s.file_id}`;
const plays = (n) => `${n} ${n === 1 ? 'play' : 'plays'}`;

/** The route argument: {view: 'albums'|'artists'|'songs'|'album'|'artist', key}. */
function parseArg(arg) {
  if (!arg) return { view: 'albums' };
  if (arg.startsWith('album:')) return { view: 'album', key: arg.slice(6) };
  if (arg.startsWith('artist:')) return { view: 'artist', key: arg.slice(7) };
  if (TABS.some(([t]) => t === arg)) return { view: arg };
  return { view: 'albums' };
}

export async function render(ctx) {
  const route = parseArg(ctx.arg);
  const state = { local: fullyLocal() };
  const body = h('div', { id: 'music-body', class: 'music-body' });
  const scan = h('div', { id: 'music-scan', class: 'music-scan', role: 'status' });
  let view = null; // {refresh()}

  if (route.view === 'album' || route.view === 'artist') {
    pageTitle(ctx.view, route.view === 'album' ? 'Album' : route.key,
      h('a', { href: '#/music', class: 'back', text: '← Music' }));
    ctx.view.append(scan, body);
  } else {
    const rescan = h('button', { type: 'button', id: 'music-rescan', text: 'Rescan music' });
    rescan.addEventListener('click', () => busy(rescan, async () => {
      try {
        clearInlineError(rescan);
        const vaults = await api.get('/vaults');
        const open = vaults.filter((v) => !v.key_state || v.key_state === 'available');
        await Promise.all(open.map((v) => api.post(`/vaults/${encodeURIComponent(v.id || v.vault_id)}/audio/rescan`)));
      } catch (err) {
        inlineError(rescan, err);
      }
    }));
    pageTitle(ctx.view, 'Music', h('div', { class: 'music-head-side' }, scan, rescan));
    const { bar, results } = toolbar(ctx, route, state, body);
    ctx.view.append(bar, results, body);
  }

  try {
    view = await VIEWS[route.view](ctx, route, state, body);
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    fill(body, unavailable(err, route));
    return;
  }
  if (!ctx.alive()) return;

  // Live: a changed library or new play counts reload the view in place
  // (keeping focus); scans show their progress.
  let timer = null;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      view?.refresh().catch(() => {});
      state.research?.();
    }, 400);
  };
  ctx.onCleanup(() => clearTimeout(timer));
  ctx.subscribe(['library_changed', 'library_plays'], soon);
  state.reload = soon;
  const scans = new Map();
  ctx.subscribe(['media_scan_progress'], (e) => {
    if (e.active) scans.set(e.vault_id, e);
    else scans.delete(e.vault_id);
    drawScan(scan, [...scans.values()]);
    if (!e.active) soon();
  });
  // Mark the row of the song playing now.
  const mark = () => markPlaying(ctx.view);
  ctx.onCleanup(player.onChange(mark));
  mark();
}

function drawScan(el, active) {
  if (!active.length) {
    el.replaceChildren();
    return;
  }
  const processed = active.reduce((n, s) => n + (s.processed || 0), 0);
  const total = active.reduce((n, s) => n + (s.total || 0), 0);
  const errors = active.reduce((n, s) => n + (s.errors || 0), 0);
  const label = `Reading your music: ${processed} of ${total} files${errors ? `, ${errors} could not be read` : ''}`;
  fill(el, h('span', { class: 'small', text: label }),
    h('progress', { max: Math.max(total, 1), value: processed, 'aria-label': 'Scan progress' }));
}

function markPlaying(root) {
  const now = player.current();
  const key = now ? songKey(now) : null;
  for (const row of root.querySelectorAll('tr[data-song]')) {
    const on = row.dataset.song === key;
    row.classList.toggle('playing', on);
    const tag = row.querySelector('.now-tag');
    if (tag) tag.hidden = !on;
  }
}

// ---------------------------------------------------------------- toolbar

function toolbar(ctx, route, state, body) {
  const tabs = h('nav', { class: 'music-tabs view-switch', 'aria-label': 'Music views' },
    TABS.map(([name, text]) => h('a', {
      href: `#/music/${name}`, class: 'button', text, 'aria-current': route.view === name ? 'page' : null,
    })));
  const searchId = 'music-search';
  const search = h('input', {
    type: 'search', id: searchId, autocomplete: 'off', spellcheck: false, maxLength: 200,
    placeholder: 'Songs, albums, artists…',
  });
  const local = h('input', { type: 'checkbox', id: 'music-local', checked: state.local });
  const results = h('div', { id: 'music-results', class: 'music-results', hidden: true });
  const found = h('p', { class: 'sr-only', role: 'status', id: 'music-found' });
  const bar = h('div', { class: 'music-toolbar' },
    tabs,
    h('div', { class: 'field search-field' }, h('label', { for: searchId, text: 'Search music' }), search),
    h('div', { class: 'check music-local' }, local,
      h('label', { for: 'music-local', text: 'Only what is fully on this computer' })),
    found);
  // The results take the place of the view while there is a query.

  let seq = 0;
  async function runSearch() {
    const q = search.value.trim();
    seq += 1;
    const mine = seq;
    if (!q) {
      results.hidden = true;
      results.replaceChildren();
      body.hidden = false;
      found.textContent = '';
      return;
    }
    body.hidden = true;
    results.hidden = false;
    if (!results.firstChild) results.append(skeleton(3, 'Searching…'));
    try {
      const res = await api.get('/library/search', { q, limit: 25, fully_local: state.local ? 'true' : null });
      if (mine !== seq || !ctx.alive()) return;
      drawResults(results, res, q);
      const parts = [[res.songs.length, 'song'], [res.albums.length, 'album'], [res.artists.length, 'artist']]
        .map(([n, w]) => `${n} ${w}${n === 1 ? '' : 's'}`);
      found.textContent = `Found ${parts.join(', ')}.`;
    } catch (err) {
      if (mine !== seq || !ctx.alive()) return;
      results.replaceChildren();
      inlineError(results, err);
      found.textContent = '';
    }
  }
  ctx.onCleanup(searchAsYouType(search, runSearch, 250));
  local.addEventListener('change', () => {
    state.local = local.checked;
    localStorage.setItem(LOCAL_KEY, String(local.checked));
    state.onLocal?.();
    if (search.value.trim()) runSearch();
  });
  state.research = () => { if (search.value.trim()) runSearch(); };
  return { bar, results };
}

function drawResults(el, res, q) {
  const parts = [];
  if (res.songs.length) parts.push(h('section', { class: 'music-section', 'aria-labelledby': 'found-songs' },
    h('h2', { id: 'found-songs', text: 'Songs' }), songTable(res.songs, { artist: true, album: true })));
  if (res.albums.length) parts.push(h('section', { class: 'music-section', 'aria-labelledby': 'found-albums' },
    h('h2', { id: 'found-albums', text: 'Albums' }), albumGrid(res.albums)));
  if (res.artists.length) parts.push(h('section', { class: 'music-section', 'aria-labelledby': 'found-artists' },
    h('h2', { id: 'found-artists', text: 'Artists' }), artistGrid(res.artists)));
  if (!parts.length) parts.push(empty(`Nothing in your music matches “${q}”.`));
  fill(el, parts);
  markPlaying(el);
}

// ---------------------------------------------------------------- views

/** Redraw `el` with `nodes`, keeping focus on the same control if drawn again. */
function redraw(el, ...nodes) {
  const focused = el.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
  fill(el, nodes);
  if (focused) el.querySelector(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  markPlaying(el);
}

function sortSelect(id, label, options, value, onChange) {
  const select = h('select', { id }, options.map(([v, text]) => h('option', { value: v, text })));
  select.value = value;
  select.addEventListener('change', () => onChange(select.value));
  return h('div', { class: 'field inline' }, h('label', { for: id, text: label }), select);
}

function emptyLibrary(state) {
  if (state.local) return empty('Nothing in your music is fully on this computer. Untick “Only what is fully on this computer” to see all of it.');
  return h('div', { class: 'music-empty' },
    h('p', { class: 'empty', text: 'No music yet.' }),
    h('p', { class: 'muted' }, 'Put audio files (MP3, FLAC, Ogg, Opus, M4A, WAV…) in any of your ',
      h('a', { href: '#/vaults', text: 'vaults' }),
      ': they show up here, with their covers, once Holdfast has read their tags.'));
}

const VIEWS = {
  async albums(ctx, route, state, body) {
    let sort = sessionStorage.getItem('holdfast.music.album_sort') || 'title';
    let limit = ALBUM_PAGE;
    let data;
    const load = async () => {
      data = await api.get('/library/albums', { sort, limit, offset: 0, fully_local: state.local ? 'true' : null });
    };
    const draw = () => {
      if (!data.total) {
        redraw(body, emptyLibrary(state));
        return;
      }
      const more = data.albums.length < data.total
        ? h('button', { type: 'button', 'data-focus': 'more', text: `Show more (${data.total - data.albums.length} left)` })
        : null;
      more?.addEventListener('click', () => busy(more, async () => {
        limit += ALBUM_PAGE;
        try {
          await load();
          draw();
        } catch (err) {
          inlineError(more, err);
        }
      }));
      redraw(body,
        h('div', { class: 'music-list-head' },
          h('p', { class: 'muted', text: `${data.total} ${data.total === 1 ? 'album' : 'albums'}` }),
          sortSelect('album-sort', 'Sort by', ALBUM_SORTS, sort, async (v) => {
            sort = v;
            sessionStorage.setItem('holdfast.music.album_sort', v);
            await refresh().catch((err) => inlineError(body.querySelector('.music-list-head'), err));
          })),
        albumGrid(data.albums),
        more ? h('div', { class: 'actions' }, more) : null);
    };
    const refresh = async () => {
      await load();
      if (ctx.alive()) draw();
    };
    state.onLocal = () => refresh().catch((err) => inlineError(body, err));
    await refresh();
    return { refresh };
  },

  async artists(ctx, route, state, body) {
    let limit = 120;
    let data;
    const refresh = async () => {
      data = await api.get('/library/artists', { limit, offset: 0, fully_local: state.local ? 'true' : null });
      if (!ctx.alive()) return;
      if (!data.total) {
        redraw(body, emptyLibrary(state));
        return;
      }
      const more = data.artists.length < data.total
        ? h('button', { type: 'button', 'data-focus': 'more', text: `Show more (${data.total - data.artists.length} left)` })
        : null;
      more?.addEventListener('click', () => busy(more, async () => {
        limit += 120;
        await refresh().catch((err) => inlineError(more, err));
      }));
      redraw(body,
        h('p', { class: 'muted', text: `${data.total} ${data.total === 1 ? 'artist' : 'artists'}` }),
        artistGrid(data.artists),
        more ? h('div', { class: 'actions' }, more) : null);
    };
    state.onLocal = () => refresh().catch((err) => inlineError(body, err));
    await refresh();
    return { refresh };
  },

  async songs(ctx, route, state, body) {
    let sort = sessionStorage.getItem('holdfast.music.song_sort') || 'title';
    let limit = SONG_PAGE;
    let data;
    const order = () => (SONG_SORTS.find(([v]) => v === sort) || SONG_SORTS[0])[2];
    const refresh = async () => {
      data = await api.get('/library/songs', {
        sort, order: order(), limit: Math.min(limit, 1000), offset: 0, fully_local: state.local ? 'true' : null,
      });
      if (!ctx.alive()) return;
      player.refreshSongs(data.songs);
      if (!data.total) {
        redraw(body, emptyLibrary(state));
        return;
      }
      const more = data.songs.length < data.total && limit < 1000
        ? h('button', { type: 'button', 'data-focus': 'more', text: `Show more (${data.total - data.songs.length} left)` })
        : null;
      more?.addEventListener('click', () => busy(more, async () => {
        limit += SONG_PAGE;
        await refresh().catch((err) => inlineError(more, err));
      }));
      const playAll = h('button', { type: 'button', class: 'primary', 'data-focus': 'play-all', text: 'Play all' });
      playAll.addEventListener('click', () => player.playList(data.songs));
      const mix = h('button', { type: 'button', 'data-focus': 'shuffle-all', text: 'Shuffle' });
      mix.addEventListener('click', () => player.shuffle(data.songs));
      redraw(body,
        h('div', { class: 'music-list-head' },
          h('p', { class: 'muted', text: `${data.total} ${data.total === 1 ? 'song' : 'songs'}` }),
          h('div', { class: 'actions' }, playAll, mix),
          sortSelect('song-sort', 'Sort by', SONG_SORTS, sort, async (v) => {
            sort = v;
            sessionStorage.setItem('holdfast.music.song_sort', v);
            await refresh().catch((err) => inlineError(body.querySelector('.music-list-head'), err));
          })),
        songTable(data.songs, { artist: true, album: true }),
        more ? h('div', { class: 'actions' }, more) : null);
    };
    state.onLocal = () => refresh().catch((err) => inlineError(body, err));
    await refresh();
    return { refresh };
  },

  async album(ctx, route, state, body) {
    let first = true;
    const refresh = async () => {
      let album;
      try {
        album = await api.get(`/library/albums/${encodeURIComponent(route.key)}`);
      } catch (err) {
        if (err.status !== 404) throw err;
        if (!ctx.alive()) return;
        document.title = 'Album not found · Holdfast';
        ctx.view.querySelector('h1').textContent = 'Album not found';
        redraw(body, h('p', { class: 'empty', text: 'This album is no longer in your library. Its files may have been moved or deleted.' }));
        return;
      }
      if (!ctx.alive()) return;
      player.refreshSongs(album.songs);
      const title = album.title || 'Unknown album';
      document.title = `${title} · Holdfast`;
      ctx.view.querySelector('h1').textContent = title;
      const discs = new Set(album.songs.map((s) => s.disc_no || 1));
      const tracks = discs.size > 1
        ? [...discs].sort((a, b) => a - b).map((d) => h('section', { class: 'disc', 'aria-label': `Disc ${d}` },
          h('h3', { text: `Disc ${d}` }), songTable(album.songs.filter((s) => (s.disc_no || 1) === d), { artist: various(album) })))
        : songTable(album.songs, { artist: various(album) });
      redraw(body,
        h('div', { class: 'album-head' },
          coverImage(album.cover_vault_id, album.cover_hash, { alt: `Cover of ${title}`, seed: title, cls: 'cover-large', eager: true }),
          h('div', { class: 'album-facts' },
            h('p', { class: 'album-artist' }, album.artist
              ? h('a', { href: artistHref(album.artist), text: album.artist }) : 'Unknown artist'),
            h('p', { class: 'muted', text: [album.year, album.genre, `${album.song_count} ${album.song_count === 1 ? 'song' : 'songs'}`,
              album.duration_ms ? fmt.duration(album.duration_ms) : null].filter(Boolean).join(' · ') }),
            album.local_count < album.song_count
              ? h('p', { class: 'muted small', text: `${album.local_count} of ${album.song_count} fully on this computer` }) : null,
            albumActions(album.songs, title))),
        tracks);
      if (first) {
        first = false;
        body.querySelector('[data-focus="album-play"]')?.focus({ preventScroll: true });
      }
    };
    await refresh();
    return { refresh };
  },

  async artist(ctx, route, state, body) {
    const refresh = async () => {
      let artist;
      try {
        artist = await api.get(`/library/artists/${encodeURIComponent(route.key)}`);
      } catch (err) {
        if (err.status !== 404) throw err;
        if (!ctx.alive()) return;
        redraw(body, h('p', { class: 'empty', text: 'This artist is no longer in your library.' }));
        return;
      }
      if (!ctx.alive()) return;
      player.refreshSongs(artist.songs);
      const name = artist.name || route.key;
      document.title = `${name} · Holdfast`;
      const albumsId = uid('s');
      const songsId = uid('s');
      redraw(body,
        h('p', { class: 'muted', text: `${artist.albums.length} ${artist.albums.length === 1 ? 'album' : 'albums'} · ${artist.track_count} ${artist.track_count === 1 ? 'song' : 'songs'}` }),
        albumActions(artist.songs, name),
        artist.albums.length ? h('section', { class: 'music-section', 'aria-labelledby': albumsId },
          h('h2', { id: albumsId, text: 'Albums' }), albumGrid(artist.albums)) : null,
        h('section', { class: 'music-section', 'aria-labelledby': songsId },
          h('h2', { id: songsId, text: 'Songs' }), songTable(artist.songs, { album: true })));
    };
    await refresh();
    return { refresh };
  },
};

/** An album by several artists shows each track's artist. */
function various(album) {
  return album.songs.some((s) => s.artist && s.artist !== album.artist);
}

function albumActions(songs, name) {
  const play = h('button', { type: 'button', class: 'primary', 'data-focus': 'album-play', 'data-action': 'play-album', text: 'Play' });
  play.setAttribute('aria-label', `Play ${name}`);
  play.addEventListener('click', () => player.playList(songs));
  const mix = h('button', { type: 'button', 'data-focus': 'album-shuffle', 'data-action': 'shuffle-album', text: 'Shuffle' });
  mix.setAttribute('aria-label', `Shuffle ${name}`);
  mix.addEventListener('click', () => player.shuffle(songs));
  const queue = h('button', { type: 'button', 'data-focus': 'album-queue', 'data-action': 'queue-album', text: 'Add to queue' });
  queue.setAttribute('aria-label', `Add to queue: ${name}`);
  queue.addEventListener('click', () => player.addToQueue(songs));
  return h('div', { class: 'actions album-actions' }, play, mix, queue);
}

// ---------------------------------------------------------------- pieces

function albumGrid(albums) {
  return h('ul', { class: 'album-grid' }, albums.map((a) => {
    const title = a.title || 'Unknown album';
    const play = h('button', {
      type: 'button', class: 'album-play', 'data-action': 'play-album', 'data-focus': `play-${a.key}`,
      'aria-label': `Play ${title}`, title: `Play ${title}`,
    }, playIcon());
    play.addEventListener('click', () => busy(play, async () => {
      try {
        const full = await api.get(`/library/albums/${encodeURIComponent(a.key)}`);
        clearInlineError(play);
        player.playList(full.songs);
      } catch (err) {
        inlineError(play, err);
      }
    }));
    return h('li', { class: 'album-card', 'data-key': a.key },
      h('div', { class: 'album-art' },
        coverImage(a.cover_vault_id, a.cover_hash, { seed: title }),
        play),
      h('a', { href: albumHref(a.key), class: 'album-link', 'data-focus': `album-${a.key}` },
        h('span', { class: 'album-title', text: title })),
      h('span', { class: 'album-sub muted small', text: [a.artist || 'Unknown artist', a.year].filter(Boolean).join(' · ') }));
  }));
}

function artistGrid(artists) {
  return h('ul', { class: 'artist-grid' }, artists.map((a) => {
    const name = a.name || 'Unknown artist';
    return h('li', { class: 'artist-card', 'data-key': name },
      h('a', { href: artistHref(a.name), class: 'artist-link', 'data-focus': `artist-${name}` },
        coverImage(a.cover_vault_id, a.cover_hash, { seed: name, cls: 'cover-round' }),
        h('span', { class: 'artist-name', text: name }),
        h('span', { class: 'muted small', text: `${a.album_count} ${a.album_count === 1 ? 'album' : 'albums'} · ${a.track_count} ${a.track_count === 1 ? 'song' : 'songs'}` })));
  }));
}

const NS = 'http://www.w3.org/2000/svg';
function playIcon() {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', 'M8 5v14l11-7z');
  svg.append(path);
  return svg;
}

/**
 * A tracklist: number, title (plays from here), artist/album when asked,
 * length, play count, and Next / Queue / Radio per song.
 */
function songTable(songs, { artist = false, album = false } = {}) {
  const rows = songs.map((s, i) => {
    const title = songTitle(s);
    const key = songKey(s);
    const play = h('button', { type: 'button', class: 'link-button song-play', 'data-action': 'play', 'data-focus': `play|${key}` },
      h('span', { class: 'now-tag', hidden: true, text: '▶ ' }),
      h('span', { class: 'song-name', text: title }),
      h('span', { class: 'sr-only', text: ` (play)` }));
    play.addEventListener('click', () => player.playList(songs, i));
    const small = (action, text, label, fn) => {
      const b = h('button', { type: 'button', class: 'small-button', 'data-action': action, 'data-focus': `${action}|${key}`, text, 'aria-label': label });
      b.addEventListener('click', () => fn(b));
      return b;
    };
    const actions = h('td', { class: 'actions-cell' },
      small('next', 'Next', `Play ${title} next`, () => player.playNext(s)),
      small('queue', 'Queue', `Add ${title} to the queue`, () => player.addToQueue([s])),
      small('radio', 'Radio', `Start a radio from ${title}`, (b) => busy(b, async () => {
        try {
          clearInlineError(actions);
          await player.radio(s, fullyLocal());
        } catch (err) {
          inlineError(actions, err);
        }
      })));
    return h('tr', { 'data-song': key, 'data-path': s.path, class: s.local === false ? 'remote' : null },
      h('td', { class: 'num track-no', text: !album && s.track_no ? String(s.track_no) : String(i + 1) }),
      h('td', { class: 'song-title' }, play,
        s.local === false ? h('span', { class: 'badge', text: 'Not on this computer' }) : null),
      artist ? h('td', { class: 'song-artist', 'data-label': 'Artist' },
        s.artist ? h('a', { href: artistHref(s.artist), text: s.artist }) : 'Unknown artist') : null,
      album ? h('td', { class: 'song-album', 'data-label': 'Album' },
        s.album_key && s.album ? h('a', { href: albumHref(s.album_key), text: s.album }) : (s.album || '—')) : null,
      h('td', { class: 'num song-time', 'data-label': 'Length', text: clockTime(s.duration_ms) }),
      h('td', { class: 'num song-plays', 'data-label': 'Plays', 'data-plays': String(s.play_count || 0), title: s.last_played_ms ? `Last played ${fmt.when(s.last_played_ms)}` : null },
        h('span', { 'aria-hidden': 'true', text: String(s.play_count || 0) }),
        h('span', { class: 'plays-word', 'aria-hidden': 'true', text: (s.play_count || 0) === 1 ? ' play' : ' plays' }),
        h('span', { class: 'sr-only', text: plays(s.play_count || 0) })),
      actions);
  });
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table tracks' },
      h('caption', { class: 'sr-only', text: 'Songs' }),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', class: 'num', text: '#' }),
        h('th', { scope: 'col', text: 'Title' }),
        artist ? h('th', { scope: 'col', text: 'Artist' }) : null,
        album ? h('th', { scope: 'col', text: 'Album' }) : null,
        h('th', { scope: 'col', class: 'num', text: 'Length' }),
        h('th', { scope: 'col', class: 'num', text: 'Plays' }),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
      h('tbody', {}, rows)));
}

/** The library routes answer an error (or are missing): say so, offer a retry. */
function unavailable(err, route) {
  const text = err.status === 404 && route.view !== 'album' && route.view !== 'artist'
    ? 'This Holdfast has no music library yet. Update Holdfast, then try again.'
    : `Your music could not load: ${explain(err)}`;
  return h('div', { class: 'load-error callout music-unavailable', role: 'alert' },
    h('p', { text }),
    h('button', {
      type: 'button', text: 'Try again',
      on: { click: () => window.dispatchEvent(new HashChangeEvent('hashchange')) },
    }));
}
