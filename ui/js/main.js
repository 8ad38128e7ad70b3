// The shell: hash router, login gate (password or ?bootstrap= ticket),
// navigation state and the pending-approvals badge.

import { api, getToken, setToken, setUnauthorizedHandler } from './api.js';
import { showError, clearAlerts } from './alerts.js';
import * as events from './events.js';
import * as login from './pages/login.js';
import * as home from './pages/home.js';
import * as approvals from './pages/approvals.js';
import * as apps from './pages/apps.js';
import * as data from './pages/data.js';
import * as vaults from './pages/vaults.js';
import * as vault from './pages/vault.js';
import * as activity from './pages/activity.js';
import * as settings from './pages/settings.js';
import * as unlock from './pages/unlock.js';
import * as popup from './pages/popup.js';

const PAGES = { home, approvals, apps, data, vaults, activity, settings };
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
  main.replaceChildren(ctx.view);
  try {
    await module.render(ctx);
  } catch (err) {
    if (ctx.alive() && err.status !== 401) showError(err);
  }
}

function markNav(name) {
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
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

function loggedIn(token) {
  setToken(token);
  clearAlerts();
  if (location.hash !== '#/home') location.hash = '#/home';
  else route();
}

/** Back to the login page (expired bearer, logout). */
function loggedOut() {
  setToken(null);
  events.stop();
  route();
}

// The "Approvals" nav link shows how many requests wait.
const badge = document.getElementById('approvals-badge');
async function refreshBadge() {
  if (!getToken()) return;
  try {
    const status = await api.get('/system/status', null, { anonymous: true });
    const n = status.pending_approvals || 0;
    badge.textContent = n ? String(n) : '';
    badge.hidden = !n;
    badge.setAttribute('aria-label', `${n} waiting`);
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
