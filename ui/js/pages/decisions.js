// Decisions: what your agents asked you to decide. Each open question shows
// who asked, its words, the options it offered and any context; approve
// (picking an option when there are some), deny, or defer it (it leaves the
// popup and waits here). The same questions appear in the approvals popup;
// answering either place answers both. Below, the decisions already taken.
// Live: hub_decision and approval events reload the lists.

import { api, hubApi } from '../api.js';
import { h, fill, section, pageTitle, busy, empty, uid } from '../dom.js';
import { notify } from '../alerts.js';
import { explain, inlineError } from '../errors.js';
import * as fmt from '../format.js';
import { hubTabs } from '../hub-tabs.js';

const STATUS = {
  pending: ['Waiting', 'warn'],
  deferred: ['Deferred', 'muted'],
  approved: ['Approved', 'ok'],
  denied: ['Denied', 'danger'],
};

function badge(status) {
  const [text, kind] = STATUS[status] || [status, 'muted'];
  return h('span', { class: ['badge', kind, 'decision-status'], 'data-status': status, text });
}

async function fetchAll() {
  const [open, resolved, agents] = await Promise.all([
    hubApi.get('/decisions', { status: 'open', limit: 200 }),
    hubApi.get('/decisions', { status: 'resolved', limit: 50 }),
    api.get('/agents').catch(() => []),
  ]);
  const names = new Map(agents.map((a) => [a.device_id, a.name || 'Unnamed agent']));
  return { open, resolved, names };
}

function unavailable(err, ctx) {
  const text = err.status === 404
    ? 'This Holdfast does not offer decisions yet. Update Holdfast, then try again.'
    : `Decisions could not load: ${explain(err)}`;
  return h('div', { class: 'load-error callout', role: 'alert' },
    h('p', { text }),
    h('button', {
      type: 'button', text: 'Try again',
      on: { click: () => { if (ctx.alive()) window.dispatchEvent(new HashChangeEvent('hashchange')); } },
    }));
}

export async function render(ctx) {
  pageTitle(ctx.view, 'Decisions');
  ctx.view.append(hubTabs('decisions'));
  let data;
  try {
    data = await fetchAll();
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    ctx.view.append(unavailable(err, ctx));
    return;
  }
  if (!ctx.alive()) return;

  const openCard = section('Waiting for you');
  openCard.id = 'decisions-open';
  const openList = h('div', { class: 'decision-list' });
  openCard.append(
    h('p', { class: 'muted', text: 'Your agents ask before doing something that needs you. Approve or deny; defer keeps a question here, out of the popup, until you decide.' }),
    openList);
  const doneCard = section('Decided');
  doneCard.id = 'decisions-resolved';
  const doneBody = h('div');
  doneCard.append(doneBody);
  ctx.view.append(openCard, doneCard);

  const who = (d) => (d.requester_device_id ? data.names.get(d.requester_device_id) || 'An agent' : 'You');

  let openKey = '';
  let doneKey = '';
  function draw() {
    const k1 = JSON.stringify([data.open, [...data.names]]);
    if (k1 !== openKey) {
      openKey = k1;
      const focused = openList.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
      fill(openList, data.open.length ? data.open.map(openItem) : empty('Nothing waits for a decision.'));
      if (focused) openList.querySelector(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
    }
    const k2 = JSON.stringify(data.resolved);
    if (k2 !== doneKey) {
      doneKey = k2;
      fill(doneBody, data.resolved.length ? resolvedTable() : empty('No decisions taken yet.'));
    }
  }

  let loading = null;
  let again = false;
  async function load() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        const next = await fetchAll();
        if (!ctx.alive()) return;
        data = next;
        draw();
      } while (again && ctx.alive());
    })().finally(() => { loading = null; });
    return loading;
  }
  const refresh = () => load().catch(() => {});

  function openItem(d) {
    const titleId = uid('d');
    const parts = [
      h('div', { class: 'decision-head' }, h('h3', { id: titleId, text: d.title }), badge(d.status)),
      h('p', { class: 'muted small', text: `Asked by ${who(d)} · ${fmt.ago(d.created_ms)}` }),
    ];
    if (d.description) parts.push(h('p', { class: 'decision-description', text: d.description }));
    let choice = null;
    if (d.options.length) {
      const name = uid('opt');
      choice = h('fieldset', { class: 'decision-options' },
        h('legend', { text: 'Options offered' }),
        ...d.options.map((o, i) => {
          const id = uid('o');
          return h('div', { class: 'check' },
            h('input', { type: 'radio', name, id, value: o, checked: i === 0 }),
            h('label', { for: id, text: o }));
        }));
      parts.push(choice);
    }
    if (d.context && Object.keys(d.context).length) {
      parts.push(h('details', { class: 'decision-context' },
        h('summary', { text: 'Context' }),
        h('pre', { tabindex: '0', text: JSON.stringify(d.context, null, 2) })));
    }
    const noteId = uid('n');
    const note = h('textarea', { id: noteId, rows: 2, maxLength: 1000, 'data-focus': `${d.id}|note` });
    parts.push(h('div', { class: 'field' },
      h('label', { for: noteId, text: 'Note for the agent (optional)' }), note));
    const actions = h('div', { class: 'row-actions' });
    const answer = (resolution, button, said) => busy(button, async () => {
      const body = { resolution };
      if (note.value.trim()) body.note = note.value.trim();
      const picked = choice?.querySelector('input:checked');
      if (resolution === 'approve' && picked) body.option = picked.value;
      try {
        await hubApi.post(`/decisions/${encodeURIComponent(d.id)}/resolve`, body);
        notify(`“${d.title}”: ${said}.`);
        await load();
      } catch (err) {
        inlineError(actions, err);
      }
    });
    const approve = h('button', { type: 'button', class: 'primary', 'data-action': 'approve', 'data-focus': `${d.id}|approve`, text: 'Approve' });
    const deny = h('button', { type: 'button', class: 'danger', 'data-action': 'deny', 'data-focus': `${d.id}|deny`, text: 'Deny' });
    approve.addEventListener('click', () => answer('approve', approve, 'approved'));
    deny.addEventListener('click', () => answer('deny', deny, 'denied'));
    actions.append(approve, deny);
    if (d.status === 'pending') {
      const defer = h('button', { type: 'button', 'data-action': 'defer', 'data-focus': `${d.id}|defer`, text: 'Defer' });
      defer.addEventListener('click', () => answer('defer', defer, 'deferred'));
      actions.append(defer);
    }
    parts.push(actions);
    return h('article', { class: ['decision', `status-${d.status}`], 'data-key': d.id, 'aria-labelledby': titleId }, ...parts);
  }

  function resolvedTable() {
    const rows = data.resolved.map((d) => h('tr', { 'data-key': d.id, 'data-status': d.status },
      h('th', { scope: 'row', text: d.title }),
      h('td', { 'data-label': 'Asked by', text: who(d) }),
      h('td', { 'data-label': 'Outcome' }, badge(d.status),
        d.option ? h('span', { class: 'muted small', text: ` · ${d.option}` }) : null),
      h('td', { 'data-label': 'Note', text: d.note || '—' }),
      h('td', { 'data-label': 'Decided', text: fmt.when(d.resolved_ms) })));
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'table listy decisions-done' },
        h('caption', { class: 'sr-only', text: 'Decisions taken' }),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: 'Question' }),
          h('th', { scope: 'col', text: 'Asked by' }),
          h('th', { scope: 'col', text: 'Outcome' }),
          h('th', { scope: 'col', text: 'Note' }),
          h('th', { scope: 'col', text: 'Decided' }))),
        h('tbody', {}, rows)));
  }

  draw();
  ctx.subscribe(['hub_decision', 'approval_resolved'], refresh);
  ctx.every(refresh, 15_000);
}
