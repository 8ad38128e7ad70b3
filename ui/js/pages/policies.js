// Policies: the owner's rules for room messages, and the messages a rule
// held. A rule looks at metadata only (who sent it, in which room, its
// type, its size, how fast the sender is writing, the time of day) — the
// hub cannot read content — and allows, blocks, holds for approval or
// notifies. Held messages wait here and in the approvals queue.

import { api, hubApi } from '../api.js';
import { h, fill, field, section, pageTitle, busy, empty, confirmDialog, uid, checkbox, facts } from '../dom.js';
import { notify } from '../alerts.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';
import { hubTabs } from '../hub-tabs.js';

const ACTIONS = [
  ['hold', 'Hold for my approval', 'warn'],
  ['block', 'Block', 'danger'],
  ['notify', 'Deliver and notify me', 'ok'],
  ['allow', 'Allow', 'ok'],
];
const actionLabel = (a) => ACTIONS.find(([k]) => k === a)?.[1] || a;
const actionKind = (a) => ACTIONS.find(([k]) => k === a)?.[2] || 'muted';

export async function render(ctx) {
  pageTitle(ctx.view, 'Policies');
  ctx.view.append(hubTabs('policies'));
  let data;
  try {
    data = await fetchAll();
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    ctx.view.append(h('div', { class: 'load-error callout', role: 'alert' },
      h('p', { text: `Policies could not load: ${explain(err)}` }),
      h('button', { type: 'button', text: 'Try again', on: { click: () => window.dispatchEvent(new HashChangeEvent('hashchange')) } })));
    return;
  }
  if (!ctx.alive()) return;

  const heldCard = section('Held messages');
  heldCard.id = 'policies-held';
  const heldBody = h('div');
  heldCard.append(h('p', { class: 'muted', text: 'Messages a policy stopped. Approve to deliver one to the room, deny to drop it (its sender is told). The content is end-to-end encrypted: you see what the hub sees.' }), heldBody);
  const formCard = section('New policy');
  formCard.id = 'policies-new';
  const listCard = section('Policies');
  listCard.id = 'policies-list';
  const listBody = h('div', { class: 'policy-list' });
  listCard.append(h('p', { class: 'muted', text: 'Tried in order of priority (lowest first); the first that matches decides. Messages no policy matches are delivered.' }), listBody);
  ctx.view.append(heldCard, formCard, listCard);

  const nameOfDevice = (id) => data.agents.find((a) => a.device_id === id)?.name || id;
  const nameOfRoom = (id) => data.rooms.find((r) => r.id === id)?.name || id;

  // ---- Held ----
  function drawHeld() {
    if (!data.held.length) {
      fill(heldBody, empty('Nothing is waiting.'));
      return;
    }
    fill(heldBody, h('ul', { class: 'held-list' }, data.held.map((m) => {
      const approve = h('button', { type: 'button', class: 'primary', 'data-action': 'approve-held', text: 'Approve' });
      const deny = h('button', { type: 'button', class: 'danger', 'data-action': 'deny-held', text: 'Deny' });
      const actions = h('div', { class: 'row-actions' }, approve, deny);
      const answer = (btn, verb) => busy(btn, async () => {
        try {
          await hubApi.post(`/policies/held-messages/${encodeURIComponent(m.id)}/${verb}`);
          notify(verb === 'approve' ? 'Delivered to the room.' : 'Dropped; the sender is told.');
          await reload();
        } catch (err) {
          inlineError(actions, err);
          if (err.status === 409 || err.status === 404) reload();
        }
      });
      approve.addEventListener('click', () => answer(approve, 'approve'));
      deny.addEventListener('click', () => answer(deny, 'deny'));
      return h('li', { class: 'held', 'data-key': m.id },
        facts([
          ['From', m.sender_name || m.sender_device_id],
          ['Room', m.room_name || m.room_id],
          ['Type', m.message_type],
          ['Size', fmt.bytes(m.size_bytes)],
          ['Held by', m.policy_name || 'a policy'],
          ['Since', fmt.when(Date.parse(m.created_at))],
        ]),
        actions);
    })));
  }

  // ---- Form (new, or editing one) ----
  function policyForm(p, done) {
    const c = p?.conditions || {};
    const f = {};
    f.name = field('Name', { maxLength: 100, required: true, value: p?.name || '', autocomplete: 'off' });
    const actId = uid('act');
    f.action = h('select', { id: actId }, ACTIONS.map(([k, label]) => h('option', { value: k, text: label })));
    f.action.value = p?.action || 'hold';
    f.priority = field('Priority', { type: 'number', min: 0, max: 10000, value: String(p?.priority ?? 100) }, 'Lower runs first.');
    f.enabled = checkbox('Enabled', { checked: p ? p.enabled : true });
    const pick = (legend, items, chosen, hint) => {
      const boxes = items.map(([id, label]) => ({ id, box: checkbox(label, { checked: (chosen || []).includes(id) }) }));
      const hintId = uid('h');
      const fs = h('fieldset', { class: 'policy-pick', 'aria-describedby': hintId }, h('legend', { text: legend }),
        boxes.length ? h('div', { class: 'check-grid' }, boxes.map((b) => b.box.wrap)) : h('p', { class: 'muted', text: 'None yet.' }),
        h('small', { class: 'hint', id: hintId, text: hint }));
      return { fs, chosen: () => boxes.filter((b) => b.box.input.checked).map((b) => b.id) };
    };
    f.senders = pick('Senders', data.agents.map((a) => [a.device_id, a.name || a.device_id]), c.sender_device_ids, 'None ticked: any sender.');
    f.rooms = pick('Rooms', data.rooms.map((r) => [r.id, r.name]), c.room_ids, 'None ticked: every room.');
    f.types = field('Message types', { value: (c.message_types || []).join(', '), placeholder: 'e.g. text, file', autocomplete: 'off' }, 'Comma-separated; empty: any type.');
    f.min = field('At least (bytes)', { type: 'number', min: 0, value: c.min_size_bytes ?? '' });
    f.max = field('At most (bytes)', { type: 'number', min: 0, value: c.max_size_bytes ?? '' });
    f.rateMax = field('More than (messages)', { type: 'number', min: 1, value: c.rate?.max_messages ?? '' });
    f.rateWin = field('Within (seconds)', { type: 'number', min: 1, max: 86400, value: c.rate?.window_seconds ?? '' });
    f.from = field('From (UTC)', { type: 'time', value: c.time_of_day?.start || '' });
    f.to = field('Until (UTC)', { type: 'time', value: c.time_of_day?.end || '' });
    const submit = h('button', { type: 'submit', class: 'primary', text: p ? 'Save' : 'Create policy' });
    const actions = h('div', { class: 'actions' }, submit);
    if (p) {
      const cancel = h('button', { type: 'button', text: 'Cancel' });
      cancel.addEventListener('click', () => done(false));
      actions.append(cancel);
    }
    const form = h('form', { class: 'stack policy-form', 'data-policy': p?.id || null },
      f.name.wrap,
      h('div', { class: 'field' }, h('label', { for: actId, text: 'Action' }), f.action),
      h('div', { class: 'field-row' }, f.priority.wrap, f.enabled.wrap),
      h('details', { class: 'policy-conditions', open: !!p },
        h('summary', { text: 'Conditions (all must match)' }),
        f.senders.fs, f.rooms.fs, f.types.wrap,
        h('div', { class: 'field-row' }, f.min.wrap, f.max.wrap),
        h('div', { class: 'field-row' }, f.rateMax.wrap, f.rateWin.wrap),
        h('div', { class: 'field-row' }, f.from.wrap, f.to.wrap)),
      actions);
    const num = (el) => (el.input.value === '' ? undefined : Number(el.input.value));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        const conditions = {};
        const senders = f.senders.chosen();
        if (senders.length) conditions.sender_device_ids = senders;
        const rooms = f.rooms.chosen();
        if (rooms.length) conditions.room_ids = rooms;
        const types = f.types.input.value.split(',').map((s) => s.trim()).filter(Boolean);
        if (types.length) conditions.message_types = types;
        if (num(f.min) !== undefined) conditions.min_size_bytes = num(f.min);
        if (num(f.max) !== undefined) conditions.max_size_bytes = num(f.max);
        if (num(f.rateMax) !== undefined || num(f.rateWin) !== undefined) {
          conditions.rate = { max_messages: num(f.rateMax) ?? 0, window_seconds: num(f.rateWin) ?? 0 };
        }
        if (f.from.input.value || f.to.input.value) conditions.time_of_day = { start: f.from.input.value, end: f.to.input.value };
        const body = {
          name: f.name.input.value.trim(),
          action: f.action.value,
          priority: Number(f.priority.input.value || 100),
          enabled: f.enabled.input.checked,
          conditions,
        };
        try {
          if (p) await hubApi.patch(`/policies/${encodeURIComponent(p.id)}`, body);
          else await hubApi.post('/policies', body);
          clearInlineError(actions);
          notify(p ? 'Policy saved.' : 'Policy created.');
          done(true);
        } catch (err) {
          inlineError(actions, err);
        }
      });
    });
    return form;
  }

  function drawForm() {
    fill(formCard, formCard.firstChild, policyForm(null, () => { drawForm(); reload(); }));
  }

  // ---- List ----
  function conditionText(c) {
    const parts = [];
    if (c.sender_device_ids) parts.push(`from ${c.sender_device_ids.map(nameOfDevice).join(', ')}`);
    if (c.room_ids) parts.push(`in ${c.room_ids.map(nameOfRoom).join(', ')}`);
    if (c.message_types) parts.push(`type ${c.message_types.join(', ')}`);
    if (c.min_size_bytes !== undefined) parts.push(`at least ${fmt.bytes(c.min_size_bytes)}`);
    if (c.max_size_bytes !== undefined) parts.push(`at most ${fmt.bytes(c.max_size_bytes)}`);
    if (c.rate) parts.push(`more than ${c.rate.max_messages} in ${c.rate.window_seconds} s`);
    if (c.time_of_day) parts.push(`between ${c.time_of_day.start} and ${c.time_of_day.end} UTC`);
    return parts.length ? parts.join(' · ') : 'Every room message';
  }

  function drawList() {
    if (!data.policies.length) {
      fill(listBody, empty('No policies: every room message is delivered.'));
      return;
    }
    fill(listBody, data.policies.map((p) => {
      const titleId = uid('p');
      const edit = h('button', { type: 'button', 'data-action': 'edit-policy', text: 'Edit' });
      const del = h('button', { type: 'button', class: 'danger', 'data-action': 'delete-policy', text: 'Delete' });
      const actions = h('div', { class: 'row-actions' }, edit, del);
      const card = h('article', { class: ['policy', !p.enabled && 'disabled'], 'data-key': p.id, 'aria-labelledby': titleId },
        h('div', { class: 'policy-head' },
          h('h3', { id: titleId, text: p.name }),
          h('span', { class: ['badge', actionKind(p.action)], text: actionLabel(p.action) }),
          p.enabled ? null : h('span', { class: 'badge muted', text: 'Off' })),
        h('p', { class: 'policy-when', text: conditionText(p.conditions) }),
        h('p', { class: 'muted small', text: `Priority ${p.priority}` }),
        actions);
      edit.addEventListener('click', () => {
        fill(card, policyForm(p, (saved) => { if (saved) reload(); else drawList(); }));
        card.querySelector('input')?.focus();
      });
      del.addEventListener('click', async () => {
        if (!await confirmDialog(`Delete the policy “${p.name}”? Messages it held stay held until you answer them.`, 'Delete policy')) return;
        await busy(del, async () => {
          try {
            await hubApi.del(`/policies/${encodeURIComponent(p.id)}`);
            notify('Policy deleted.');
            await reload();
          } catch (err) {
            inlineError(actions, err);
          }
        });
      });
      return card;
    }));
  }

  async function reload() {
    try {
      const next = await fetchAll();
      if (!ctx.alive()) return;
      data = next;
      drawHeld();
      if (!listBody.querySelector('form')) drawList();
    } catch {
      /* shown by the shell */
    }
  }

  drawHeld();
  drawForm();
  drawList();
  ctx.subscribe(['agent_held_message', 'approval_resolved', 'approval_requested'], reload);
  ctx.every(reload, 15_000);
}

async function fetchAll() {
  const [policies, held, rooms, agents] = await Promise.all([
    hubApi.get('/policies'),
    hubApi.get('/policies/held-messages'),
    hubApi.get('/rooms'),
    api.get('/agents'),
  ]);
  return { policies, held, rooms, agents };
}
