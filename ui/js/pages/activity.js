// Activity: live events as they happen (newest first), and the audit log
// with a type filter and an export.

import { api, tokenUrl } from '../api.js';
import { h, section, pageTitle, empty, busy, skeleton } from '../dom.js';
import { showError } from '../alerts.js';
import { inlineError } from '../errors.js';
import { recentEvents } from '../events.js';
import * as fmt from '../format.js';
import { outcomeText } from '../approval-card.js';

const MAX_LIVE = 200;
/** Audit events per page ("Show older" loads the next). */
const PAGE = 50;

const AUDIT_TYPES = [
  'link', 'link_revoked', 'authenticate', 'sign', 'grant', 'grant_revoked', 'approval',
  'unlock', 'unlock_failed', 'lock', 'passphrase_changed', 'identity_created', 'identity_recovered',
  'app_registered', 'app_changed', 'app_deleted', 'backup', 'backup_deleted', 'export',
  'vault_created', 'vault_deleted', 'vault_locked', 'vault_unlock', 'vault_password_changed', 'gc',
  'diagnostics_created', 'diagnostics_deleted',
];

const DAY_MS = 86_400_000;

function dayKey(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** "Today", "Yesterday", or the local date. */
function dayHeading(ms, now = Date.now()) {
  if (dayKey(ms) === dayKey(now)) return 'Today';
  if (dayKey(ms) === dayKey(now - DAY_MS)) return 'Yesterday';
  return new Date(ms).toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

function timeOfDay(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

const WORDS = {
  link: 'Linked an app to your identity',
  link_revoked: 'Unlinked an app',
  authenticate: 'Signed in to an app',
  sign: 'Signed for an app',
  grant: 'Let an app sign without asking',
  grant_revoked: 'Revoked a remembered answer',
  unlock: 'Unlocked Holdfast',
  unlock_failed: 'Failed unlock attempt',
  lock: 'Locked Holdfast',
  passphrase_changed: 'Changed the identity passphrase',
  identity_created: 'Created your identity',
  identity_recovered: 'Recovered your identity',
  app_registered: 'Registered an app',
  app_changed: 'Changed an app',
  app_deleted: 'Removed an app',
  backup: 'An app backed up its data',
  backup_deleted: 'A backup was deleted',
  export: 'Exported your data',
  vault_created: 'Created a vault',
  vault_deleted: 'Deleted a vault',
  vault_locked: 'Locked a vault',
  vault_unlock: 'Unlocked vaults',
  vault_password_changed: 'Changed a vault password',
  gc: 'Cleaned up unused storage',
  diagnostics_created: 'Made a diagnostics bundle',
  diagnostics_deleted: 'Deleted a diagnostics bundle',
};

const OUTCOMES = { allowed: 'Allowed', denied: 'Denied', timeout: 'Timed out (denied)', locked: 'Denied (locked)', busy: 'Refused (too many requests)' };
const KINDS = { link: 'link', auth: 'sign-in', sign: 'signature' };
const SKIP = new Set(['app_name', 'claimed_name', 'client_id', 'vault_id', 'kind', 'outcome', 'link_id', 'grant_id',
  'app_agent_pub_key', 'agent_pub_key', 'id']);

/** One audit event in words, with names instead of ids: {what, details}. */
function describe(e, names) {
  const d = e.details && typeof e.details === 'object' ? e.details : {};
  const app = d.app_name || (d.client_id && names.apps.get(d.client_id)) || d.client_id;
  const vault = d.vault_id ? names.vaults.get(d.vault_id) || 'a vault since deleted' : null;
  let what = WORDS[e.type] || e.type.replace(/_/g, ' ');
  if (e.type === 'approval') {
    what = `${OUTCOMES[d.outcome] || d.outcome || 'Answered'}: ${KINDS[d.kind] || d.kind || 'a'} request${app ? ` from ${app}` : ''}`;
  } else if (app && ['link', 'link_revoked', 'authenticate', 'sign', 'grant', 'app_registered', 'app_changed',
    'app_deleted', 'backup', 'backup_deleted'].includes(e.type)) {
    what = what.replace(/an app/i, app);
  } else if (vault) {
    what = what.replace(/a vault/i, `vault “${vault}”`);
  }
  if (e.type === 'export' && !d.client_id && d.apps !== undefined) what = `Exported your data (${d.apps} app${d.apps === 1 ? '' : 's'})`;
  const parts = [];
  if (d.claimed_name) parts.push(`it called itself “${d.claimed_name}”`);
  if (d.client_id && app !== d.client_id) parts.push(`app id ${d.client_id}`);
  for (const [k, v] of Object.entries(d)) {
    if (SKIP.has(k) || v === null || v === undefined) continue;
    if (e.type === 'export' && k === 'apps') continue;
    const key = k.replace(/_/g, ' ');
    if (/_ms$/.test(k) && typeof v === 'number') parts.push(`${key.replace(/ ms$/, '')}: ${fmt.when(v)}`);
    else if (typeof v === 'boolean') parts.push(v ? key : `not ${key}`);
    else if (k === 'bytes' || k === 'data_size') parts.push(fmt.bytes(v));
    else parts.push(`${key}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  }
  return { what, details: parts.join(' · ') };
}

/** A short line of an object's fields: "vault_id=…, path=/a". */
function summarize(obj, skip = []) {
  if (!obj || typeof obj !== 'object') return '';
  return Object.entries(obj)
    .filter(([k, v]) => !skip.includes(k) && v !== null && v !== undefined)
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(' · ');
}

export async function render(ctx) {
  pageTitle(ctx.view, 'Activity');
  // Vault and app names by id, so the page shows names.
  let names = { vaults: new Map(), apps: new Map() };
  // Scrolls on its own, so it takes focus for keyboard scrolling.
  const live = h('ol', { id: 'live-events', class: 'events', 'aria-live': 'polite', 'aria-relevant': 'additions',
    tabindex: '0', 'aria-label': 'Live events, newest first' });
  const noLive = empty('Waiting for something to happen…');
  ctx.view.append(section('Live', h('p', { class: 'muted', text: 'What Holdfast is doing right now, newest first.' }), noLive, live));

  function eventItem(e) {
    const type = e.type || 'message';
    let detail;
    if (type === 'approval_requested') {
      detail = `${e.app_name || 'An app'} asks: ${KINDS[e.kind] || e.kind}${e.claimed_name ? ` (calls itself “${e.claimed_name}”)` : ''}`;
    } else if (type === 'approval_resolved') {
      detail = outcomeText(e.outcome, { kind: e.kind, requester: { app_name: e.app_name } });
    } else if (type === 'audit') {
      const said = describe({ type: e.audit_type || 'audit', details: e.details }, names);
      detail = said.details ? `${said.what} · ${said.details}` : said.what;
    } else {
      detail = summarize(e, ['type', 'ts_ms']);
    }
    return h('li', { class: 'event', 'data-type': type },
      h('time', { dateTime: new Date(e.ts_ms).toISOString(), text: fmt.clock(e.ts_ms) }),
      h('strong', { class: 'event-type', text: type }),
      detail ? h('span', { class: 'muted', text: detail }) : null);
  }

  function addLive(e) {
    live.prepend(eventItem(e));
    while (live.children.length > MAX_LIVE) live.lastElementChild.remove();
    noLive.hidden = true;
  }

  // What arrived before this page opened, then everything new.
  const before = recentEvents();
  for (const e of before.slice().reverse()) addLive(e);
  noLive.hidden = before.length > 0;
  ctx.subscribe(null, addLive);

  // ---- Audit log ----------------------------------------------------------
  const typeId = 'audit-type';
  const typeSelect = h('select', { id: typeId },
    h('option', { value: '', text: 'Everything' }),
    AUDIT_TYPES.map((t) => h('option', { value: t, text: t.replace(/_/g, ' ') })));
  const since = h('select', { id: 'audit-since' },
    [['', 'Any time'], [3600e3, 'Last hour'], [86400e3, 'Last day'], [7 * 86400e3, 'Last week'], [30 * 86400e3, 'Last 30 days']]
      .map(([v, t]) => h('option', { value: String(v), text: t })));
  const refresh = h('button', { type: 'submit', text: 'Show' });
  const filter = h('form', { class: 'filters', id: 'audit-filter' },
    h('div', { class: 'field' }, h('label', { for: typeId, text: 'Kind' }), typeSelect),
    h('div', { class: 'field' }, h('label', { for: 'audit-since', text: 'When' }), since),
    refresh);
  const log = h('div', { class: 'audit-log' });
  const loadingLog = skeleton(5, 'Loading the audit log…');
  const none = empty('Nothing recorded for this filter.');
  none.hidden = true;
  const more = h('button', { type: 'button', class: 'audit-more', 'data-action': 'older', text: 'Show older' });
  more.hidden = true;
  const exportLink = h('a', { class: 'button', href: tokenUrl('/audit/export'), download: 'holdfast-audit.jsonl',
    text: 'Export the whole log (JSON Lines)' });
  ctx.view.append(section('Audit log',
    h('p', { class: 'muted', text: 'A lasting record of sign-ins, signatures, links, unlocks and changes, newest first, in your local time.' }),
    filter, loadingLog, log, none, h('p', {}, more), h('p', {}, exportLink)));

  let oldestId = null;
  let lastDay = null;
  let lastList = null;
  let generation = 0;

  async function loadNames() {
    const [vaults, apps] = await Promise.all([
      api.get('/vaults').catch(() => []),
      api.get('/apps').catch(() => []),
    ]);
    names = {
      vaults: new Map(vaults.map((v) => [v.id, v.name])),
      apps: new Map(apps.map((a) => [a.client_id, a.name])),
    };
  }

  function addItems(items) {
    for (const e of items) {
      const day = dayKey(e.ts_ms);
      if (day !== lastDay) {
        lastDay = day;
        lastList = h('ol', { class: 'audit-list' });
        log.append(h('h3', { class: 'audit-day', text: dayHeading(e.ts_ms) }), lastList);
      }
      const { what, details } = describe(e, names);
      lastList.append(h('li', { class: 'audit-item', 'data-type': e.type, 'data-id': String(e.id) },
        h('time', { dateTime: new Date(e.ts_ms).toISOString(), title: fmt.when(e.ts_ms), text: timeOfDay(e.ts_ms) }),
        h('span', { class: 'audit-what', text: what }),
        details ? h('span', { class: 'audit-details', text: details }) : null));
    }
  }

  function query(extra = {}) {
    const q = { limit: String(PAGE), ...extra };
    if (typeSelect.value) q.types = typeSelect.value;
    if (since.value) q.since = String(Date.now() - Number(since.value));
    return q;
  }

  /** The newest page, replacing what is shown. */
  async function loadAudit() {
    const mine = ++generation;
    const [items] = await Promise.all([api.get('/audit', query()), loadNames()]);
    if (!ctx.alive() || mine !== generation) return;
    loadingLog.remove();
    log.replaceChildren();
    lastDay = null;
    lastList = null;
    addItems(items);
    oldestId = items.length ? items[items.length - 1].id : null;
    more.hidden = items.length < PAGE;
    none.hidden = items.length > 0;
  }

  /** The next page back in time, added below. */
  async function loadOlder() {
    if (oldestId === null) return;
    const mine = generation;
    const items = await api.get('/audit', query({ before_id: String(oldestId) }));
    if (!ctx.alive() || mine !== generation) return;
    addItems(items);
    if (items.length) oldestId = items[items.length - 1].id;
    more.hidden = items.length < PAGE;
  }

  more.addEventListener('click', () => busy(more, () => loadOlder().catch((err) => inlineError(more, err))));
  filter.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(refresh, () => loadAudit().catch(showError));
  });
  typeSelect.addEventListener('change', () => loadAudit().catch(showError));
  since.addEventListener('change', () => loadAudit().catch(showError));
  let pending = null;
  ctx.subscribe(['audit'], () => {
    // New events only matter while the newest page is what is shown.
    clearTimeout(pending);
    if (log.querySelectorAll('.audit-item').length > PAGE) return;
    pending = setTimeout(() => loadAudit().catch(() => {}), 500);
  });
  ctx.onCleanup(() => clearTimeout(pending));
  await loadAudit();
}
