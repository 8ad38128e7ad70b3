// Activity: live events as they happen (newest first), and the audit log
// with a type filter and an export.

import { api, tokenUrl } from '../api.js';
import { h, section, pageTitle, empty, busy } from '../dom.js';
import { showError } from '../alerts.js';
import { recentEvents } from '../events.js';
import * as fmt from '../format.js';

const MAX_LIVE = 200;

const AUDIT_TYPES = [
  'link', 'link_revoked', 'authenticate', 'sign', 'grant', 'grant_revoked', 'approval',
  'unlock', 'unlock_failed', 'lock', 'passphrase_changed', 'identity_created', 'identity_recovered',
  'app_registered', 'app_changed', 'app_deleted', 'backup', 'backup_deleted', 'export',
  'vault_created', 'vault_deleted', 'vault_locked', 'vault_unlock', 'vault_password_changed', 'gc',
  'diagnostics_created', 'diagnostics_deleted',
];

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
  const live = h('ol', { id: 'live-events', class: 'events', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: 0, 'aria-label': 'Live events' });
  const noLive = empty('Waiting for something to happen…');
  ctx.view.append(section('Live', h('p', { class: 'muted', text: 'What Holdfast is doing right now, newest first.' }), noLive, live));

  function eventItem(e) {
    const type = e.type || 'message';
    const detail = type === 'audit'
      ? `${e.audit_type}${e.details ? ` · ${summarize(e.details)}` : ''}`
      : summarize(e, ['type', 'ts_ms']);
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
  const rows = h('tbody');
  const table = h('table', { class: 'table' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'When' }), h('th', { scope: 'col', text: 'What' }), h('th', { scope: 'col', text: 'Details' }))),
    rows);
  const none = empty('Nothing recorded for this filter.');
  const exportLink = h('a', { class: 'button', href: tokenUrl('/audit/export'), download: 'holdfast-audit.jsonl',
    text: 'Export the whole log (JSON Lines)' });
  ctx.view.append(section('Audit log',
    h('p', { class: 'muted', text: 'A lasting record of sign-ins, signatures, links, unlocks and changes.' }),
    filter, h('div', { class: 'table-wrap' }, table), none, h('p', {}, exportLink)));

  async function loadAudit() {
    const query = {};
    if (typeSelect.value) query.types = typeSelect.value;
    if (since.value) query.since = String(Date.now() - Number(since.value));
    const items = await api.get('/audit', query);
    if (!ctx.alive()) return;
    rows.replaceChildren(...items.map((e) => h('tr', { class: 'audit', 'data-type': e.type },
      h('td', {}, h('time', { dateTime: new Date(e.ts_ms).toISOString(), text: fmt.when(e.ts_ms) })),
      h('td', { text: e.type.replace(/_/g, ' ') }),
      h('td', { class: 'muted wrap', text: summarize(e.details) }))));
    table.hidden = items.length === 0;
    none.hidden = items.length > 0;
  }

  filter.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(refresh, () => loadAudit().catch(showError));
  });
  typeSelect.addEventListener('change', () => loadAudit().catch(showError));
  since.addEventListener('change', () => loadAudit().catch(showError));
  let pending = null;
  ctx.subscribe(['audit'], () => {
    clearTimeout(pending);
    pending = setTimeout(() => loadAudit().catch(() => {}), 500);
  });
  ctx.onCleanup(() => clearTimeout(pending));
  await loadAudit();
}
