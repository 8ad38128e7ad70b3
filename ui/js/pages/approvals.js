// Approvals: what apps are asking for (link, sign in, sign), answered
// here, and what became of the ones that just left (allowed, denied,
// timed out, withdrawn); below, the timed grants that skip the prompt,
// with Revoke.

import { api } from '../api.js';
import { h, section, pageTitle, syncList, empty, skeleton } from '../dom.js';
import { inlineError } from '../errors.js';
import { showError, notify } from '../alerts.js';
import { approvalCard, updateCard, tickCard, outcomeText } from '../approval-card.js';
import * as fmt from '../format.js';

export async function render(ctx) {
  pageTitle(ctx.view, 'Approvals');
  const list = h('div', { class: 'approvals', 'aria-live': 'polite' });
  const none = empty('Nothing is waiting. When an app asks for something, it shows up here.');
  none.hidden = true;
  const loadingApprovals = skeleton(4, 'Loading requests…');
  // What became of requests that left while this page was open.
  const results = h('ul', { class: 'approval-results', 'aria-live': 'polite' });
  const pending = section('Requests', loadingApprovals, results, list, none);
  const grantRows = h('tbody');
  const noGrants = empty('No app can act without asking.');
  noGrants.hidden = true;
  const grantTable = h('table', { class: 'table listy' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'App' }), h('th', { scope: 'col', text: 'May' }),
      h('th', { scope: 'col', text: 'Time left' }), h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
    grantRows);
  const grants = section('Remembered answers',
    h('p', { class: 'muted', text: 'These apps may do this without asking until the time runs out.' }),
    h('div', { class: 'table-wrap' }, grantTable), noGrants);
  ctx.view.append(pending, grants);

  let appNames = new Map();
  const seen = new Map(); // id → request, for saying what became of it
  grantTable.hidden = true;

  function addResult(text) {
    results.prepend(h('li', { class: 'approval-result', text }));
    while (results.children.length > 5) results.lastElementChild.remove();
  }

  async function loadApprovals() {
    const items = await api.get('/approvals');
    if (!ctx.alive()) return;
    loadingApprovals.remove();
    items.sort((a, b) => a.created_ms - b.created_ms);
    for (const a of items) seen.set(a.id, a);
    syncList(list, items, (a) => a.id, (a) => approvalCard(a, answered), updateCard);
    none.hidden = items.length > 0;
    // Deny is the default: focus the first request's Deny unless the user
    // is busy with something else on the page.
    const first = list.querySelector('button[data-action="deny"]:not([disabled])');
    const active = document.activeElement;
    const idle = !active || active === document.body || active.id === 'main' || !!active.closest('nav');
    if (first && idle) first.focus();
  }

  async function loadGrants() {
    const [items, apps] = await Promise.all([api.get('/grants'), api.get('/apps').catch(() => [])]);
    if (!ctx.alive()) return;
    appNames = new Map(apps.map((a) => [a.client_id, a.name]));
    const now = Date.now();
    const expires = (row, g) => { row.dataset.expires = String(now + g.time_left_ms); };
    syncList(grantRows, items, (g) => g.id, (g) => {
      const row = grantRow(g);
      expires(row, g);
      return row;
    }, expires);
    grantTable.hidden = items.length === 0;
    noGrants.hidden = items.length > 0;
    tick();
  }

  function answered(card, decision, text) {
    if (decision) {
      seen.delete(card.dataset.id);
      addResult(text);
      card.remove();
    }
    none.hidden = list.children.length > 0;
    refresh();
  }

  function grantRow(g) {
    const revoke = h('button', { type: 'button', 'data-action': 'revoke', text: 'Revoke' });
    const row = h('tr', { class: 'grant' },
      h('td', { text: appNames.get(g.client_id) || g.client_id }),
      h('td', { 'data-label': 'May', text: g.kind === 'sign' ? 'Sign without asking' : g.kind }),
      h('td', { class: 'time-left', 'data-label': 'Time left' }),
      h('td', { class: 'actions-cell' }, revoke));
    revoke.addEventListener('click', async () => {
      revoke.disabled = true;
      try {
        await api.del(`/grants/${encodeURIComponent(g.id)}`);
        notify('Revoked. The app will ask again next time.');
        row.remove();
      } catch (err) {
        inlineError(revoke, err);
        revoke.disabled = false;
      }
      loadGrants().catch(showError);
    });
    return row;
  }

  function tick() {
    const now = Date.now();
    for (const card of list.children) tickCard(card, now);
    for (const row of grantRows.children) {
      const leftMs = Number(row.dataset.expires) - now;
      row.querySelector('.time-left').textContent = leftMs > 0 ? fmt.duration(leftMs) : 'Expired';
    }
  }

  let loading = false;
  async function refresh() {
    if (loading) return;
    loading = true;
    try {
      await Promise.all([loadApprovals(), loadGrants()]);
    } catch (err) {
      if (ctx.alive() && err.status !== 401) showError(err);
    } finally {
      loading = false;
    }
  }

  ctx.every(refresh, 2000);
  ctx.every(tick, 250);
  ctx.subscribe(['approval_requested', 'approval_resolved'], refresh);
  // Requests answered elsewhere, timed out or withdrawn: say which.
  ctx.subscribe(['approval_resolved'], (e) => {
    const a = seen.get(e.id);
    if (!a) return;
    // Answered on this page: answered() says so once the daemon replied.
    if ([...list.children].some((c) => c.dataset.id === e.id && c.classList.contains('answering'))) return;
    seen.delete(e.id);
    addResult(outcomeText(e.outcome, a));
  });
  await refresh();
  tick();
}
