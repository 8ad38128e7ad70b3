// Rooms: multi-agent rooms on the agent hub. The list of rooms, a form to
// create one with members, and `#/rooms/<id>`: the room with its members
// (add, remove), its live timeline as this computer's owner device
// decrypted it, and a box to write into it. Every room message passes the
// policy engine (see the Policies page); held ones say so.

import { api, hubApi } from '../api.js';
import { h, fill, field, section, pageTitle, busy, empty, confirmDialog, uid, checkbox } from '../dom.js';
import { notify } from '../alerts.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';
import { hubTabs } from '../hub-tabs.js';

const agentName = (a) => a?.name || a?.display_name || 'Unnamed agent';

export async function render(ctx) {
  if (ctx.arg) return roomView(ctx, ctx.arg);
  return overview(ctx);
}

function unavailable(err, ctx) {
  return h('div', { class: 'load-error callout rooms-unavailable', role: 'alert' },
    h('p', { text: `Rooms could not load: ${explain(err)}` }),
    h('button', {
      type: 'button', text: 'Try again',
      on: { click: () => { if (ctx.alive()) window.dispatchEvent(new HashChangeEvent('hashchange')); } },
    }));
}

// ---------------------------------------------------------------- list

async function overview(ctx) {
  pageTitle(ctx.view, 'Rooms');
  ctx.view.append(hubTabs('rooms'));
  let rooms;
  let agents;
  try {
    [rooms, agents] = await Promise.all([hubApi.get('/rooms'), api.get('/agents')]);
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    ctx.view.append(unavailable(err, ctx));
    return;
  }
  if (!ctx.alive()) return;

  const createCard = section('New room');
  createCard.id = 'rooms-create';
  const listCard = section('Your rooms');
  listCard.id = 'rooms-list';
  const list = h('div', { class: 'room-list' });
  const none = empty('No rooms yet. Create one above with the agents that should talk together.');
  listCard.append(none, list);
  ctx.view.append(createCard, listCard);

  function drawForm() {
    const active = agents.filter((a) => a.status === 'ACTIVE');
    const name = field('Name', { id: 'room-name', maxLength: 100, autocomplete: 'off', required: true, placeholder: 'e.g. Release crew' });
    const boxes = active.map((a) => ({ a, box: checkbox(agentName(a), { value: a.device_id, 'data-member': a.device_id }) }));
    const legendId = uid('l');
    const members = h('fieldset', { class: 'room-members-pick', 'aria-describedby': legendId },
      h('legend', { text: 'Members' }),
      boxes.length
        ? h('div', { class: 'check-grid' }, boxes.map((b) => b.box.wrap))
        : h('p', { class: 'muted', text: 'No active agent yet: invite and approve one on the Agents page. You can add members later.' }),
      h('small', { class: 'hint', id: legendId, text: 'Each member joins the room’s end-to-end encrypted group; you take part through this computer.' }));
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Create room' });
    const actions = h('div', { class: 'actions' }, submit);
    const form = h('form', { id: 'room-form', class: 'stack room-form' }, name.wrap, members, actions);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        try {
          const body = {
            name: name.input.value.trim(),
            member_device_ids: boxes.filter((b) => b.box.input.checked).map((b) => b.a.device_id),
          };
          const room = await hubApi.post('/rooms', body);
          clearInlineError(actions);
          notify(`Room “${room.name}” created.`);
          location.hash = `#/rooms/${encodeURIComponent(room.id)}`;
        } catch (err) {
          inlineError(actions, err.status === 503 ? 'Holdfast is locked: unlock it on Home to create rooms.' : err);
        }
      });
    });
    fill(createCard, createCard.firstChild, form);
  }

  function item(r) {
    const titleId = uid('r');
    const agentsIn = r.members.filter((m) => m.entity_type === 'agent');
    return h('article', { class: 'room', 'data-key': r.id, 'aria-labelledby': titleId },
      h('div', { class: 'room-head' },
        h('h3', { id: titleId }, h('a', { href: `#/rooms/${encodeURIComponent(r.id)}`, text: r.name })),
        h('span', { class: ['badge', r.security_level === 'strict' ? 'warn' : 'muted'], text: r.security_level })),
      h('p', { class: 'room-meta muted' },
        agentsIn.length ? `${agentsIn.length} agent${agentsIn.length === 1 ? '' : 's'}: ${agentsIn.map(agentName).join(', ')}` : 'No agents yet',
        ` · created ${fmt.when(Date.parse(r.created_at))}`));
  }

  function draw() {
    none.hidden = rooms.length > 0;
    fill(list, rooms.map(item));
  }

  async function reload() {
    try {
      const [r, a] = await Promise.all([hubApi.get('/rooms'), api.get('/agents')]);
      if (!ctx.alive()) return;
      const formChanged = JSON.stringify(a.map((x) => [x.device_id, x.status, x.name])) !== JSON.stringify(agents.map((x) => [x.device_id, x.status, x.name]));
      rooms = r;
      agents = a;
      draw();
      if (formChanged && !createCard.contains(document.activeElement)) drawForm();
    } catch {
      /* the shell shows an unreachable daemon */
    }
  }

  drawForm();
  draw();
  ctx.subscribe(['agent_room', 'agent_device'], reload);
  ctx.every(reload, 15_000);
}

// ---------------------------------------------------------------- one room

function stamp(ms) {
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString() ? fmt.clock(ms) : fmt.when(ms);
}

function sendError(err) {
  if (err.status === 503) return 'Holdfast is locked: unlock it on Home, then try again.';
  if (err.status === 403) return 'A policy blocks this message. See the Policies page.';
  if (err.status === 409) return `The room cannot take messages now: ${explain(err)}`;
  return explain(err);
}

async function roomView(ctx, roomId) {
  const back = h('a', { href: '#/rooms', class: 'back-link', text: '← All rooms' });
  const head = pageTitle(ctx.view, 'Room');
  head.prepend(back);
  ctx.view.append(hubTabs('rooms'));
  let room;
  let agents;
  try {
    [room, agents] = await Promise.all([hubApi.get(`/rooms/${encodeURIComponent(roomId)}`), api.get('/agents')]);
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    if (err.status === 404) {
      ctx.view.append(h('div', { class: 'callout', role: 'note' },
        h('p', { text: 'There is no room with this id.' }),
        h('p', {}, h('a', { href: '#/rooms', text: 'See all rooms' }))));
      return;
    }
    ctx.view.append(unavailable(err, ctx));
    return;
  }
  if (!ctx.alive()) return;
  const title = head.querySelector('h1');

  const membersCard = section('Members');
  membersCard.id = 'room-members';
  const memberList = h('ul', { class: 'room-member-list' });
  const addSlot = h('div', { class: 'room-add' });
  membersCard.append(memberList, addSlot);

  const logNote = h('div', { class: 'chat-note-slot' });
  const log = h('ol', { id: 'room-log', class: 'chat-log' });
  const noMessages = empty('No messages yet.');
  noMessages.id = 'room-empty';
  const logWrap = h('div', { class: 'chat-scroll', tabIndex: 0, role: 'log', 'aria-live': 'polite', 'aria-label': 'Room messages' }, noMessages, log);
  const input = h('textarea', { id: 'room-input', rows: 3, maxLength: 16384, placeholder: 'Write to the room…', 'aria-describedby': 'room-hint' });
  const send = h('button', { type: 'submit', class: 'primary', text: 'Send' });
  const sendRow = h('div', { class: 'chat-send-row' }, input, send);
  const form = h('form', { id: 'room-form-send', class: 'chat-form' },
    h('label', { for: 'room-input', text: 'Message to the room' }), sendRow,
    h('small', { id: 'room-hint', class: 'hint', text: 'Enter sends; Shift+Enter starts a new line. Room policies apply to your messages too.' }));
  const convo = h('section', { class: 'card chat', 'aria-labelledby': 'room-convo-title' },
    h('h2', { id: 'room-convo-title', text: 'Timeline' }), logNote, logWrap, form);
  ctx.view.append(membersCard, convo);

  const nameOf = (id) => {
    const m = room.members.find((x) => x.device_id === id);
    if (m?.entity_type === 'owner') return 'You';
    return m?.display_name || agentName(agents.find((a) => a.device_id === id)) || 'Former member';
  };

  function drawRoom() {
    title.textContent = room.name;
    document.title = `${room.name} · Holdfast`;
    const archived = room.status !== 'active';
    fill(memberList, room.members.map((m) => {
      const li = h('li', { class: 'room-member', 'data-key': m.device_id },
        h('span', { class: 'room-member-name', text: m.entity_type === 'owner' ? 'You (this computer)' : (m.display_name || 'Unnamed agent') }),
        h('span', { class: ['badge', m.entity_type === 'owner' ? 'ok' : 'muted'], text: m.entity_type }));
      if (m.entity_type === 'agent' && !archived) {
        const remove = h('button', { type: 'button', class: 'danger small', 'data-action': 'remove-member', text: 'Remove', 'aria-label': `Remove ${m.display_name || 'this agent'} from the room` });
        remove.addEventListener('click', async () => {
          if (!await confirmDialog(`Remove “${m.display_name || 'this agent'}” from ${room.name}? It stops receiving the room’s messages.`, 'Remove member')) return;
          await busy(remove, async () => {
            try {
              await hubApi.del(`/rooms/${encodeURIComponent(room.id)}/members/${encodeURIComponent(m.device_id)}`);
              await reloadRoom();
            } catch (err) {
              inlineError(membersCard, err);
            }
          });
        });
        li.append(remove);
      }
      return li;
    }));
    const candidates = agents.filter((a) => a.status === 'ACTIVE' && !room.members.some((m) => m.device_id === a.device_id));
    if (archived || !candidates.length) {
      fill(addSlot, archived ? h('p', { class: 'muted', text: 'This room is archived.' }) : null);
    } else {
      const selId = uid('add');
      const sel = h('select', { id: selId }, candidates.map((a) => h('option', { value: a.device_id, text: agentName(a) })));
      const add = h('button', { type: 'button', text: 'Add member', 'data-action': 'add-member' });
      add.addEventListener('click', () => busy(add, async () => {
        try {
          await hubApi.post(`/rooms/${encodeURIComponent(room.id)}/members`, { device_id: sel.value });
          clearInlineError(addSlot);
          await reloadRoom();
        } catch (err) {
          inlineError(addSlot, err);
        }
      }));
      fill(addSlot, h('div', { class: 'field inline-field' }, h('label', { for: selId, text: 'Add an agent' }), h('div', { class: 'input-group' }, sel, add)));
    }
    input.disabled = archived;
    send.disabled = archived;
  }

  const byId = new Map();
  function addMsg(m) {
    if (!m?.message_id || byId.has(m.message_id)) return false;
    byId.set(m.message_id, m);
    return true;
  }
  function drawMessages() {
    const all = [...byId.values()].sort((a, b) => a.created_at_ms - b.created_at_ms);
    noMessages.hidden = all.length > 0;
    const near = logWrap.scrollHeight - logWrap.scrollTop - logWrap.clientHeight < 40;
    fill(log, all.map((m) => h('li', { class: ['bubble', m.mine ? 'to-agent' : 'from-agent'], 'data-key': m.message_id },
      h('span', { class: 'bubble-from', text: m.mine ? 'You' : nameOf(m.sender_device_id) }),
      h('p', { class: 'bubble-text', text: m.text }),
      h('time', { class: 'bubble-time', dateTime: new Date(m.created_at_ms).toISOString(), text: `${stamp(m.created_at_ms)}${m.held ? ' · held for approval' : ''}` }))));
    if (near) logWrap.scrollTop = logWrap.scrollHeight;
  }
  async function loadMessages() {
    try {
      const page = await api.get(`/agents/rooms/${encodeURIComponent(room.id)}/messages`, { limit: 1000 });
      if (!ctx.alive()) return;
      for (const m of page) addMsg(m);
      fill(logNote, null);
    } catch (err) {
      if (err.status === 0 || err.status === 401) return;
      fill(logNote, h('p', { class: 'callout chat-load-note', role: 'note', text: err.status === 503 ? 'Holdfast is locked: unlock it on Home to read this room.' : explain(err) }));
    }
    drawMessages();
  }
  async function reloadRoom() {
    try {
      const [r, a] = await Promise.all([hubApi.get(`/rooms/${encodeURIComponent(room.id)}`), api.get('/agents')]);
      if (!ctx.alive()) return;
      room = r;
      agents = a;
      if (!membersCard.contains(document.activeElement)) drawRoom();
    } catch {
      /* shown by the shell */
    }
  }

  async function submit() {
    const text = input.value;
    if (!text.trim() || send.disabled) return;
    await busy(send, async () => {
      try {
        const sent = await api.post(`/agents/rooms/${encodeURIComponent(room.id)}/messages`, { text });
        clearInlineError(sendRow);
        addMsg({ message_id: sent.message_id, mine: true, text, created_at_ms: sent.created_at_ms, held: sent.status === 'held' });
        if (sent.status === 'held') notify('A policy holds your message until you approve it.');
        input.value = '';
        drawMessages();
        logWrap.scrollTop = logWrap.scrollHeight;
      } catch (err) {
        inlineError(sendRow, sendError(err));
      }
    });
    input.focus();
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });

  drawRoom();
  await loadMessages();
  if (!ctx.alive()) return;
  ctx.subscribe(['agent_room_text'], (e) => {
    if (e.room_id !== room.id) return;
    const mine = room.members.some((m) => m.entity_type === 'owner' && m.device_id === e.sender_device_id);
    if (addMsg({ ...e, mine })) drawMessages();
  });
  ctx.subscribe(['agent_room'], (e) => { if (e.room_id === room.id) reloadRoom(); });
  ctx.every(() => { reloadRoom(); loadMessages(); }, 15_000);
}
