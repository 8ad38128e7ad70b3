// The shell: hash router, login gate (password or ?bootstrap= ticket),
// navigation state (a menu button on phones), the pending-approvals badge,
// a skeleton while a page loads, and the unreachable-daemon state: when
// Holdfast stops answering, the page says so and hides what it showed
// (it may be stale) until it answers again, then renders afresh.

import { api, getToken, setToken, setUnauthorizedHandler } from './api.js';
import { showError, clearAlerts } from './alerts.js';
import { explain } from './errors.js';
import * as events from './events.js';
import { h, skeleton } from './dom.js';
import { onReachability, isReachable, check as checkReachable } from './reachability.js';
import * as login from './pages/login.js';
import * as home from './pages/home.js';
import * as approvals from './pages/approvals.js';
import * as apps from './pages/apps.js';
import * as data from './pages/data.js';
import * as vaults from './pages/vaults.js';
import * as vault from './pages/vault.js';
import * as activity from './pages/activity.js';
import * as network from './pages/network.js';
import * as s3 from './pages/s3.js';
import * as agents from './pages/agents.js';
import * as apiKeys from './pages/api-keys.js';
import * as rooms from './pages/rooms.js';
import * as policies from './pages/policies.js';
import * as decisions from './pages/decisions.js';
import * as telemetry from './pages/telemetry.js';
import * as identities from './pages/identities.js';
import * as a2a from './pages/a2a.js';
import * as trust from './pages/trust.js';
import * as settings from './pages/settings.js';
import * as unlock from './pages/unlock.js';
import * as popup from './pages/popup.js';
import * as music from './pages/music.js';
import * as sessions from './pages/sessions.js';
import { stop as stopPlayer } from './player.js';
import { HUB_TABS } from './hub-tabs.js';

const PAGES = {
  home, approvals, apps, data, vaults, network, s3, agents, activity, settings, decisions, telemetry,
  'api-keys': apiKeys, rooms, policies, identities, a2a, trust,
  music, sessions,
};
// Pages of the desktop app's own windows: no navigation around them.
const BARE = { unlock, popup };

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let current = null; // the page context in force

/** What a page gets: its view, the route argument, and tidy-up helpers. */
function makeContext(arg) {
  const cleanups = [];
  const view = document.createElement('div');
  view.className = 'view';
  return {
    view,
    arg,
    alive: () => false, // set by show()
    onCleanup: (fn) => cleanups.push(fn),
    every(fn, ms) {
      const id = setInterval(fn, ms);
      cleanups.push(() => clearInterval(id));
    },
    subscribe(types, fn) {
      cleanups.push(events.subscribe(types, fn));
    },
    dispose() {
      for (const fn of cleanups.splice(0)) {
        try {
          fn();
        } catch (err) {
          console.error(err);
        }
      }
    },
  };
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  return { name: parts[0] || 'home', arg: parts[1] ? decodeURIComponent(parts[1]) : null };
}

async function show(module, arg) {
  if (current) current.dispose();
  const ctx = makeContext(arg);
  current = ctx;
  ctx.alive = () => current === ctx;
  // The page stays hidden behind a skeleton until its first data arrived,
  // so no empty-state text flashes before it.
  const loading = skeleton(4);
  ctx.view.classList.add('arriving'); // invisible, yet focusable
  main.replaceChildren(loading, ctx.view);
  main.setAttribute('aria-busy', 'true');
  try {
    await module.render(ctx);
  } catch (err) {
    if (ctx.alive() && err.status !== 401 && err.status !== 0) {
      ctx.view.append(h('div', { class: 'load-error callout', role: 'alert' },
        h('p', { text: `This page could not load: ${explain(err)}` }),
        h('button', { type: 'button', text: 'Try again', on: { click: () => route() } })));
    }
  } finally {
    if (ctx.alive()) {
      loading.remove();
      ctx.view.classList.remove('arriving');
      main.removeAttribute('aria-busy');
    }
  }
}

// The hub's pages sit under the Agents entry.
const HUB_PAGES = new Set(HUB_TABS.map(([name]) => name));

function markNav(name) {
  if (HUB_PAGES.has(name)) name = 'agents';
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  clearAlerts(); // messages belong to the page they were shown on
  closeMenu();
  if (!isReachable()) {
    showUnreachable();
    return;
  }
  if (!getToken()) {
    document.body.classList.add('logged-out');
    nav.hidden = true;
    markNav('');
    await show(login, { onLogin: loggedIn });
    return;
  }
  document.body.classList.remove('logged-out');
  events.start();
  const { name, arg } = parseHash();
  document.body.classList.toggle('bare', !!BARE[name]);
  nav.hidden = !!BARE[name];
  if (BARE[name]) {
    await show(BARE[name], arg);
    return;
  }
  if (!PAGES[name]) {
    location.replace('#/home');
    return;
  }
  markNav(name);
  await show(name === 'vaults' && arg ? vault : PAGES[name], arg);
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
  refreshBadge();
}

/** Signed in: back to the page the person was on (or Home). */
function loggedIn(token) {
  setToken(token);
  route();
}

/** Back to the login page (expired bearer, logout). */
function loggedOut() {
  setToken(null);
  events.stop();
  stopPlayer();
  route();
}

// The "Approvals" nav link shows how many requests wait.
const badge = document.getElementById('approvals-badge');
const menuBadge = document.getElementById('menu-badge');
async function refreshBadge() {
  if (!getToken()) return;
  try {
    const status = await api.get('/system/status', null, { anonymous: true });
    const n = status.pending_approvals || 0;
    badge.textContent = n ? String(n) : '';
    badge.hidden = !n;
    badge.setAttribute('aria-label', `${n} waiting`);
    menuBadge.textContent = badge.textContent;
    menuBadge.hidden = !n;
    menuBadge.setAttribute('aria-label', `${n} approvals waiting`);
    document.title = document.title.replace(/^\(\d+\) /, '');
    if (n) document.title = `(${n}) ${document.title}`;
  } catch {
    /* the daemon may be restarting */
  }
}

// Live indicator in the sidebar.
const live = document.getElementById('live');
events.onConnection((on) => {
  live.textContent = on ? 'Live' : 'Offline';
  live.classList.toggle('on', on);
});

// The phone header: one line, the navigation behind a menu button.
const sidebar = document.querySelector('.sidebar');
const menuButton = document.getElementById('menu-button');
function closeMenu() {
  sidebar.classList.remove('menu-open');
  menuButton.setAttribute('aria-expanded', 'false');
}
menuButton.addEventListener('click', () => {
  const open = !sidebar.classList.contains('menu-open');
  sidebar.classList.toggle('menu-open', open);
  menuButton.setAttribute('aria-expanded', String(open));
});

// Holdfast not answering: say so, hide what may be stale, disable actions.
const offline = document.getElementById('offline');
function showUnreachable() {
  document.body.classList.add('unreachable');
  offline.hidden = false;
  if (current) current.dispose();
  current = null;
  main.replaceChildren(h('section', { class: 'card unreachable-page', 'aria-labelledby': 'unreachable-title' },
    h('h1', { id: 'unreachable-title', text: 'Holdfast is not answering' }),
    h('p', { text: 'This page shows nothing until Holdfast answers again, because what it showed may be out of date. Nothing you do here is lost: actions are paused until then.' }),
    h('p', { class: 'muted', text: 'If you closed Holdfast, start it again. This page reconnects by itself.' })));
}
onReachability((up) => {
  if (up) {
    document.body.classList.remove('unreachable');
    offline.hidden = true;
    route();
  } else {
    showUnreachable();
  }
});
document.getElementById('offline-retry').addEventListener('click', () => checkReachable());

async function boot() {
  setUnauthorizedHandler((reason) => {
    if (!getToken()) return;
    loggedOut();
    if (reason === 'expired') showError('Your session ended. Please log in again.');
  });
  events.subscribe(['approval_requested', 'approval_resolved'], refreshBadge);
  setInterval(refreshBadge, 10_000);
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#/') || location.hash === '') route();
  });

  // A one-shot ticket from `holdfast open`: trade it for a bearer.
  const params = new URLSearchParams(location.search);
  const ticket = params.get('bootstrap');
  if (ticket) {
    // Forget the ticket, keep the page it leads to.
    history.replaceState(null, '', `${location.pathname}${location.hash || '#/home'}`);
    try {
      const res = await api.post('/auth/bootstrap-exchange', { ticket }, { anonymous: true });
      setToken(res.token);
    } catch (err) {
      showError(err.status === 401
        ? 'That sign-in link has expired or was already used. Log in with your password instead.'
        : err);
    }
  }
  route();
}

boot();
