// Agents: the programs that talk to you through the agent hub. Invite one
// (its token shown once, with a command line and a QR code to copy), compare
// and approve the fingerprint of one that enrolled, see every agent with its
// presence, revoke one, and the invites. `#/agents/<device_id>` is the chat
// with one agent: the conversation oldest first and a prompt box. Live:
// presence, device, approval and message events update both views.

import { api } from '../api.js';
import { h, fill, field, section, pageTitle, facts, busy, empty, confirmDialog, uid } from '../dom.js';
import { notify } from '../alerts.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';
import { qrSvg } from './network.js';
import { copyField } from './s3.js';
import { hubTabs } from '../hub-tabs.js';

const STATUS = {
  PENDING: ['Waiting for approval', 'warn'],
  APPROVED: ['Approved, not connected yet', 'ok'],
  ACTIVE: ['Active', 'ok'],
  SUSPENDED: ['Suspended', 'warn'],
  REVOKED: ['Revoked', 'muted'],
  REJECTED: ['Denied', 'muted'],
};
const INVITE_STATUS = {
  active: ['Active', 'ok'],
  consumed: ['Used', 'muted'],
  revoked: ['Revoked', 'muted'],
  expired: ['Expired', 'muted'],
};
const TTLS = [['1 day', 24], ['3 days', 72], ['7 days', 168], ['30 days', 720]];
const REVOCABLE = new Set(['APPROVED', 'ACTIVE', 'SUSPENDED']);

const agentName = (a) => a.name || 'Unnamed agent';

function statusBadge(status) {
  const [text, kind] = STATUS[status] || [status, 'muted'];
  return h('span', { class: ['badge', kind, 'agent-status'], 'data-status': status, text });
}

/** "Online", or "Last seen 3 min ago" / "Never connected". */
function presenceText(a) {
  if (a.online) return 'Online';
  return a.last_seen_ms ? `Last seen ${fmt.ago(a.last_seen_ms)}` : 'Never connected';
}

function presence(a) {
  return h('span', { class: 'presence', 'data-online': a.online ? 'true' : 'false' },
    h('span', { class: ['dot', a.online ? 'on' : 'off'], 'aria-hidden': 'true' }),
    presenceText(a));
}

function fingerprint(text, big = false) {
  return h('code', { class: ['fingerprint', big && 'big'], text: text || '—' });
}

export async function render(ctx) {
  if (ctx.arg) return chat(ctx, ctx.arg);
  return overview(ctx);
}

// ---------------------------------------------------------------- overview

async function overview(ctx) {
  pageTitle(ctx.view, 'Agents');
  ctx.view.append(hubTabs('agents'));

  let data;
  try {
    data = await fetchAll();
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    ctx.view.append(unavailable(err, ctx));
    return;
  }
  if (!ctx.alive()) return;

  const pendingCard = section('Waiting for your approval');
  pendingCard.id = 'agents-pending';
  const pendingList = h('div', { class: 'agent-list' });
  pendingCard.append(
    h('p', { class: 'muted', text: 'An agent used one of your invites. Approve it only if the fingerprint below is the one the agent printed when it enrolled.' }),
    pendingList);

  const inviteCard = section('Invite an agent');
  inviteCard.id = 'agents-invite';
  const invitePanel = h('div', { id: 'agents-new-invite', class: 'new-invite', hidden: true });
  inviteCard.append(
    h('p', { class: 'muted', text: 'An invite lets one agent enrol with your hub. It works once; you approve the agent after it enrols.' }),
    inviteForm(), invitePanel);

  const devicesCard = section('Devices');
  devicesCard.id = 'agents-devices';
  const deviceList = h('div', { class: 'agent-list' });
  const noDevices = empty('No agents yet. Invite one above: it shows up here once it enrols.');
  devicesCard.append(noDevices, deviceList);

  const invitesCard = section('Invites');
  invitesCard.id = 'agents-invites';
  const invitesBody = h('div');
  invitesCard.append(invitesBody);

  ctx.view.append(pendingCard, inviteCard, devicesCard, invitesCard);

  function draw() {
    renderPending();
    renderDevices();
    renderInvites();
  }

  // One reload at a time; events that arrive meanwhile ask for one more.
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

  /** Focus the control marked data-focus=`name` inside `root`, if drawn. */
  function focusOn(root, name) {
    const el = [...root.querySelectorAll('[data-focus]')].find((e) => e.dataset.focus === name);
    if (el) el.focus();
  }

  /** Redraw `list` with `items` unless nothing changed; keeps focus. */
  function redraw(list, items, make, keyState) {
    const key = JSON.stringify(items);
    if (keyState.key === key) return;
    keyState.key = key;
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
    fill(list, items.map(make));
    if (focused) focusOn(list, focused);
  }

  // ---- Pending ----
  const pendingKey = {};
  function renderPending() {
    const pending = data.agents.filter((a) => a.status === 'PENDING');
    pendingCard.hidden = pending.length === 0;
    redraw(pendingList, pending.map((a) => ({ ...a, approval: approvalFor(a.device_id)?.id || null, last_seen_ms: null })), pendingItem, pendingKey);
  }

  function approvalFor(deviceId) {
    return data.approvals.find((x) => x.kind === 'device_enrolment' && x.details?.device_id === deviceId);
  }

  function pendingItem(a) {
    const id = a.device_id;
    const titleId = uid('a');
    const approve = h('button', { type: 'button', class: 'primary', 'data-action': 'approve', 'data-focus': `${id}|approve`, text: 'Approve' });
    const deny = h('button', { type: 'button', class: 'danger', 'data-action': 'deny', 'data-focus': `${id}|deny`, text: 'Deny' });
    const actions = h('div', { class: 'row-actions' }, approve, deny);
    approve.addEventListener('click', () => busy(approve, async () => {
      try {
        await api.post(`/agents/${encodeURIComponent(id)}/approve`);
        notify(`${agentName(a)} is approved.`);
        await load();
      } catch (err) {
        inlineError(actions, err);
      }
    }));
    deny.addEventListener('click', async () => {
      const ok = await confirmDialog(`Deny “${agentName(a)}”? It cannot use the hub, and its invite stays used.`, 'Deny agent');
      if (!ok) return;
      await busy(deny, async () => {
        try {
          const open = approvalFor(id);
          if (open) await api.post(`/approvals/${encodeURIComponent(open.id)}`, { decision: 'deny' });
          else await api.post(`/agents/${encodeURIComponent(id)}/revoke`);
          notify(`${agentName(a)} was denied.`);
          await load();
        } catch (err) {
          inlineError(actions, err);
        }
      });
    });
    return h('article', { class: 'agent pending', 'data-key': id, 'data-approval': a.approval || null, 'aria-labelledby': titleId },
      h('div', { class: 'agent-head' },
        h('h3', { id: titleId, text: agentName(a) }),
        statusBadge(a.status)),
      facts([
        ['Platform', a.platform || 'Not given'],
        ['Device', h('code', { class: 'wrap', text: id })],
      ]),
      h('figure', { class: 'fingerprint-figure' },
        h('figcaption', { text: 'Fingerprint: compare with what the agent printed' }),
        fingerprint(a.fingerprint, true)),
      actions);
  }

  // ---- Invite ----
  function inviteForm() {
    const label = field('Label (optional)', {
      id: 'agents-invite-label', autocomplete: 'off', maxLength: 100, placeholder: 'e.g. build server',
    }, 'Helps you tell invites apart.');
    const ttlId = uid('ttl');
    const ttl = h('select', { id: ttlId }, TTLS.map(([text, hours]) => h('option', { value: String(hours), text })));
    ttl.value = '72';
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Create invite' });
    const actions = h('div', { class: 'actions' }, submit);
    const form = h('form', { id: 'agents-invite-form', class: 'stack invite-form' },
      label.wrap,
      h('div', { class: 'field' }, h('label', { for: ttlId, text: 'Valid for' }), ttl),
      actions);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        try {
          const body = { expires_in_hours: Number(ttl.value) };
          if (label.input.value.trim()) body.label = label.input.value.trim();
          const inv = await api.post('/agents/invites', body);
          clearInlineError(actions);
          form.reset();
          ttl.value = '72';
          showInvite(inv);
          await load();
          invitePanel.querySelector('#agents-invite-token')?.focus();
        } catch (err) {
          inlineError(actions, err);
        }
      });
    });
    return form;
  }

  function showInvite(inv) {
    const titleId = uid('s');
    const done = h('button', { type: 'button', text: 'I saved it', 'data-action': 'hide-invite' });
    done.addEventListener('click', () => {
      invitePanel.hidden = true;
      invitePanel.replaceChildren();
      document.getElementById('agents-invite-label')?.focus();
    });
    const command = `HUB_URL=${inv.hub_url} INVITE=${inv.token}`;
    const qrText = JSON.stringify({ hub_url: inv.hub_url, invite_token: inv.token });
    fill(invitePanel,
      h('h3', { id: titleId, text: `New invite${inv.label ? `: ${inv.label}` : ''}` }),
      h('p', { class: 'callout secret-warning', role: 'note' },
        h('strong', { text: 'The token is shown only now. ' }),
        `Give it to the agent before you leave this page: Holdfast keeps only its hash. It works once, until ${fmt.when(Date.parse(inv.expires_at))}.`),
      copyField('Invite token', inv.token, 'invite token', 'agents-invite-token'),
      copyField('Command line', command, 'command line', 'agents-invite-command'),
      h('p', { class: 'muted small', text: 'Paste the command line in front of the agent’s enrol command, or scan the code with the agent’s device.' }),
      h('figure', { class: 'qr-figure' },
        qrSvg(qrText, 'QR code of the invite: the hub address and the token'),
        h('figcaption', { class: 'muted small', text: `Hub: ${inv.hub_url}` })),
      h('div', { class: 'actions' }, done));
    invitePanel.setAttribute('aria-labelledby', titleId);
    invitePanel.hidden = false;
  }

  // ---- Devices ----
  const devicesKey = {};
  function renderDevices() {
    noDevices.hidden = data.agents.length > 0;
    // Presence text ages: redraw when it reads differently.
    redraw(deviceList, data.agents.map((a) => ({ ...a, seen: presenceText(a) })), deviceItem, devicesKey);
  }

  function deviceItem(a) {
    const id = a.device_id;
    const titleId = uid('a');
    const chatLink = h('a', {
      class: 'button', href: `#/agents/${encodeURIComponent(id)}`, 'data-action': 'chat', 'data-focus': `${id}|chat`,
      text: 'Open chat', 'aria-label': `Open chat with ${agentName(a)}`,
    });
    const buttons = [chatLink];
    const actions = h('div', { class: 'row-actions' });
    if (REVOCABLE.has(a.status)) {
      const revoke = h('button', { type: 'button', class: 'danger', 'data-action': 'revoke', 'data-focus': `${id}|revoke`, text: 'Revoke' });
      revoke.addEventListener('click', async () => {
        const ok = await confirmDialog(`Revoke “${agentName(a)}”? It is disconnected at once and cannot come back; to use it again, invite it anew.`, 'Revoke agent');
        if (!ok) return;
        await busy(revoke, async () => {
          try {
            await api.post(`/agents/${encodeURIComponent(id)}/revoke`);
            notify(`${agentName(a)} is revoked.`);
            await load();
          } catch (err) {
            inlineError(actions, err);
          }
        });
      });
      buttons.push(revoke);
    }
    fill(actions, buttons);
    return h('article', { class: ['agent', `status-${a.status.toLowerCase()}`], 'data-key': id, 'aria-labelledby': titleId },
      h('div', { class: 'agent-head' },
        h('h3', { id: titleId, text: agentName(a) }),
        statusBadge(a.status)),
      h('p', { class: 'agent-meta' }, presence(a), h('span', { class: 'muted', text: ` · ${a.platform || 'platform not given'}` })),
      h('div', { class: 'agent-fp' }, h('span', { class: 'muted small', text: 'Fingerprint ' }), fingerprint(a.fingerprint)),
      actions);
  }

  // ---- Invites ----
  const invitesKey = {};
  function renderInvites() {
    const key = JSON.stringify(data.invites);
    if (invitesKey.key === key) return;
    invitesKey.key = key;
    if (!data.invites.length) {
      fill(invitesBody, empty('No invites yet.'));
      return;
    }
    const focused = invitesBody.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
    const invites = [...data.invites].sort((x, y) => Date.parse(y.created_at) - Date.parse(x.created_at));
    const rows = invites.map((inv) => {
      const [text, kind] = INVITE_STATUS[inv.status] || [inv.status, 'muted'];
      const cell = h('td', { class: 'actions-cell' });
      if (inv.status === 'active') {
        const revoke = h('button', {
          type: 'button', class: 'danger', 'data-action': 'revoke-invite', 'data-focus': `${inv.id}|revoke`, text: 'Revoke',
          'aria-label': `Revoke the invite ${inv.label || inv.id}`,
        });
        revoke.addEventListener('click', () => busy(revoke, async () => {
          try {
            await api.post(`/agents/invites/${encodeURIComponent(inv.id)}/revoke`);
            clearInlineError(invitesBody);
            notify('Invite revoked.');
            await load();
          } catch (err) {
            inlineError(invitesBody, err);
          }
        }));
        cell.append(revoke);
      }
      const used = inv.device_id ? data.agents.find((a) => a.device_id === inv.device_id) : null;
      return h('tr', { 'data-key': inv.id, 'data-status': inv.status },
        h('th', { scope: 'row', class: 'invite-label' }, inv.label || h('span', { class: 'muted', text: 'No label' })),
        h('td', { 'data-label': 'Status' }, h('span', { class: ['badge', kind], text }),
          used ? h('span', { class: 'muted small', text: ` by ${agentName(used)}` }) : null),
        h('td', { 'data-label': 'Made', text: fmt.when(Date.parse(inv.created_at)) }),
        h('td', { 'data-label': 'Expires', text: fmt.when(Date.parse(inv.expires_at)) }),
        cell);
    });
    fill(invitesBody, h('div', { class: 'table-wrap' },
      h('table', { class: 'table listy invites' },
        h('caption', { class: 'sr-only', text: 'Invites' }),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: 'Label' }),
          h('th', { scope: 'col', text: 'Status' }),
          h('th', { scope: 'col', text: 'Made' }),
          h('th', { scope: 'col', text: 'Expires' }),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
        h('tbody', {}, rows))));
    if (focused) focusOn(invitesBody, focused);
  }

  draw();
  ctx.subscribe(['agent_presence', 'agent_device', 'approval_requested', 'approval_resolved'], refresh);
  ctx.every(refresh, 15_000);
}

async function fetchAll() {
  const [agents, invites, approvals] = await Promise.all([
    api.get('/agents'),
    api.get('/agents/invites'),
    api.get('/approvals').catch(() => []),
  ]);
  return { agents, invites, approvals };
}

/** The agent routes answer an error (or are missing): say so, offer a retry. */
function unavailable(err, ctx) {
  const text = err.status === 404
    ? 'This Holdfast does not offer the agent hub. Update Holdfast, then try again.'
    : `Your agents could not load: ${explain(err)}`;
  return h('div', { class: 'load-error callout agents-unavailable', role: 'alert' },
    h('p', { text }),
    h('button', {
      type: 'button', text: 'Try again',
      on: { click: () => { if (ctx.alive()) window.dispatchEvent(new HashChangeEvent('hashchange')); } },
    }));
}

// ---------------------------------------------------------------- chat

/** Why the prompt box is off, or null when the agent can be written to. */
function composeBlock(agent, locked) {
  if (locked) return 'Holdfast is locked: unlock it on Home to write to your agents.';
  if (!agent) return 'This agent is not known to the hub.';
  switch (agent.status) {
    case 'ACTIVE': return null;
    case 'PENDING': return 'This agent waits for your approval: approve it on the Agents page first.';
    case 'APPROVED': return 'This agent is approved but has not connected yet: you can write once it has.';
    case 'SUSPENDED': return 'This agent is suspended.';
    case 'REVOKED': return 'This agent is revoked: it can no longer receive messages.';
    case 'REJECTED': return 'This agent was denied: it cannot receive messages.';
    default: return 'This agent is not active.';
  }
}

/** A send or load error in words. */
function chatError(err) {
  const raw = err.message || '';
  if (err.status === 503) return 'Holdfast is locked: unlock it on Home, then try again. Messages are end-to-end encrypted with keys that stay locked until then.';
  if (err.status === 409 && /key ?package/i.test(raw)) {
    return 'The agent has not published its encryption keys yet, so no message can be sealed for it. Wait until it has connected once, then try again.';
  }
  if (err.status === 409) return `The agent cannot receive messages now: ${explain(err)}`;
  return explain(err);
}

function stamp(ms) {
  const d = new Date(ms);
  const today = new Date();
  return d.toDateString() === today.toDateString() ? fmt.clock(ms) : fmt.when(ms);
}

async function chat(ctx, deviceId) {
  const back = h('a', { href: '#/agents', class: 'back-link', text: '← All agents' });
  const head = pageTitle(ctx.view, 'Chat');
  head.prepend(back);

  let agents;
  let identity;
  try {
    [agents, identity] = await Promise.all([api.get('/agents'), api.get('/identity')]);
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    ctx.view.append(unavailable(err, ctx));
    return;
  }
  if (!ctx.alive()) return;
  let agent = agents.find((a) => a.device_id === deviceId) || null;
  let locked = identity.state !== 'unlocked';
  if (!agent) {
    ctx.view.append(h('div', { class: 'callout', role: 'note' },
      h('p', { text: 'There is no agent with this id. It may have been removed.' }),
      h('p', {}, h('a', { href: '#/agents', text: 'See all agents' }))));
    return;
  }

  const title = head.querySelector('h1');
  const summary = h('div', { id: 'chat-agent', class: 'chat-agent' });
  const logNote = h('div', { class: 'chat-note-slot' });
  const log = h('ol', { id: 'chat-log', class: 'chat-log' });
  const noMessages = empty('No messages yet. Write the first one below.');
  noMessages.id = 'chat-empty';
  const logWrap = h('div', { class: 'chat-scroll', tabIndex: 0, role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' }, noMessages, log);

  const inputId = 'chat-input';
  const reasonId = 'chat-reason';
  const input = h('textarea', {
    id: inputId, rows: 3, maxLength: 16384, placeholder: 'Write a message…', 'aria-describedby': `${reasonId} chat-hint`,
  });
  const send = h('button', { type: 'submit', class: 'primary', text: 'Send' });
  const reason = h('p', { id: reasonId, class: 'chat-reason callout', role: 'note' });
  const hint = h('small', { id: 'chat-hint', class: 'hint', text: 'Enter sends; Shift+Enter starts a new line.' });
  const sendRow = h('div', { class: 'chat-send-row' }, input, send);
  const form = h('form', { id: 'chat-form', class: 'chat-form' },
    h('label', { for: inputId, id: 'chat-input-label' }),
    reason, sendRow, hint);

  const convo = h('section', { class: 'card chat', 'aria-labelledby': 'chat-title' },
    h('h2', { id: 'chat-title', class: 'sr-only', text: 'Conversation' }),
    logNote, logWrap, form);
  ctx.view.append(summary, convo);

  // ---- The agent ----
  function drawAgent() {
    title.textContent = `Chat with ${agentName(agent)}`;
    document.title = `${title.textContent} · Holdfast`;
    fill(summary,
      h('div', { class: 'agent-head' }, presence(agent), statusBadge(agent.status)),
      facts([
        ['Platform', agent.platform || 'Not given'],
        ['Fingerprint', fingerprint(agent.fingerprint)],
      ]));
    drawCompose();
  }

  function drawCompose() {
    form.querySelector('label').textContent = `Message to ${agentName(agent)}`;
    const why = composeBlock(agent, locked);
    reason.textContent = why || '';
    reason.hidden = !why;
    input.disabled = !!why;
    send.disabled = !!why;
  }

  // ---- Messages, keyed by message_id ----
  const byId = new Map();
  function add(m) {
    if (!m || !m.message_id || byId.has(m.message_id)) return false;
    byId.set(m.message_id, m);
    return true;
  }
  function drawMessages() {
    const all = [...byId.values()].sort((a, b) => a.created_at_ms - b.created_at_ms);
    noMessages.hidden = all.length > 0;
    const nearBottom = logWrap.scrollHeight - logWrap.scrollTop - logWrap.clientHeight < 40;
    const have = new Set([...log.children].map((li) => li.dataset.key));
    const want = all.map((m) => m.message_id);
    if (want.length === have.size && want.every((id, i) => log.children[i]?.dataset.key === id)) return;
    fill(log, all.map(bubble));
    if (nearBottom || !have.size) logWrap.scrollTop = logWrap.scrollHeight;
  }
  function bubble(m) {
    const mine = m.direction === 'to_agent';
    return h('li', { class: ['bubble', mine ? 'to-agent' : 'from-agent'], 'data-key': m.message_id, 'data-direction': m.direction },
      h('span', { class: 'sr-only', text: mine ? 'You: ' : `${agentName(agent)}: ` }),
      h('p', { class: 'bubble-text', text: m.text }),
      h('time', { class: 'bubble-time', dateTime: new Date(m.created_at_ms).toISOString(), text: stamp(m.created_at_ms) }));
  }

  function note(text) {
    fill(logNote, text ? h('p', { class: 'callout chat-load-note', role: 'note', text }) : null);
  }

  async function loadMessages() {
    // Oldest first, up to 1000 a page: follow on from the newest one held
    // (its own millisecond included, duplicates dropped by message_id).
    const held = [...byId.values()].map((m) => m.created_at_ms);
    let since = held.length ? Math.max(...held) - 1 : undefined;
    for (;;) {
      const page = await api.get(`/agents/${encodeURIComponent(deviceId)}/messages`, { since_ms: since, limit: 1000 });
      if (!ctx.alive()) return;
      let fresh = 0;
      for (const m of page) if (add(m)) fresh += 1;
      if (page.length < 1000 || !fresh) break;
      since = page[page.length - 1].created_at_ms - 1;
    }
    note(null);
    drawMessages();
  }
  const reloadMessages = () => loadMessages().catch((err) => {
    if (ctx.alive() && err.status !== 0 && err.status !== 401) note(chatError(err));
    drawMessages();
  });

  async function reloadAgent() {
    try {
      const [list, id] = await Promise.all([api.get('/agents'), api.get('/identity')]);
      if (!ctx.alive()) return;
      agent = list.find((a) => a.device_id === deviceId) || agent;
      const wasLocked = locked;
      locked = id.state !== 'unlocked';
      drawAgent();
      if (wasLocked && !locked) reloadMessages();
    } catch {
      /* shown by the shell when Holdfast is gone */
    }
  }

  // ---- Sending ----
  async function submit() {
    const text = input.value;
    if (!text.trim() || send.disabled) return;
    await busy(send, async () => {
      input.disabled = true;
      try {
        const sent = await api.post(`/agents/${encodeURIComponent(deviceId)}/messages`, { text });
        clearInlineError(sendRow);
        add({ message_id: sent.message_id, direction: 'to_agent', text, created_at_ms: sent.created_at_ms });
        input.value = '';
        logWrap.scrollTop = logWrap.scrollHeight;
        drawMessages();
        logWrap.scrollTop = logWrap.scrollHeight;
      } catch (err) {
        inlineError(sendRow, chatError(err));
        if (err.status === 503 || err.status === 409) reloadAgent();
      } finally {
        input.disabled = !!composeBlock(agent, locked);
      }
    });
    if (!input.disabled) input.focus();
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });

  drawAgent();
  await reloadMessages();
  if (!ctx.alive()) return;

  ctx.subscribe(['agent_message'], (e) => {
    if (e.device_id !== deviceId) return;
    if (add({ message_id: e.message_id, direction: e.direction, text: e.text, created_at_ms: e.created_at_ms })) drawMessages();
  });
  ctx.subscribe(['agent_presence', 'agent_device'], (e) => {
    if (e.device_id === deviceId) reloadAgent();
  });
  ctx.subscribe(['identity_state'], () => reloadAgent());
  // Presence text ages; messages missed while the stream was down come back.
  ctx.every(() => { reloadAgent(); if (!locked) reloadMessages(); }, 15_000);
}
