// Sessions: coding agents (Claude Code, OpenCode) run by Holdfast on this
// computer. `#/sessions` lists the agent instances (create one, set its
// provider API key, register workspace folders); `#/sessions/<instance>`
// adds that instance's sessions (new session, archived, search over the
// transcripts); `#/sessions/<instance>/<session>` is one session: its live
// transcript (GET transcript, then SSE /sessions/:sid/events), the status,
// a prompt box (Enter sends, Shift+Enter a new line) with Stop while a turn
// runs, the tool calls and questions waiting for an answer, inline, fork
// from a message, archive, delete, settings, and the files in its
// workspace with download links. On phones the list and the session stack:
// a session shows alone, with a link back to the list.

import { api, tokenUrl, getToken } from '../api.js';
import { h, fill, field, pageTitle, facts, busy, empty, confirmDialog, uid, checkbox, skeleton, searchAsYouType } from '../dom.js';
import { notify } from '../alerts.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';
import { hubTabs } from '../hub-tabs.js';
import { toolInputView, questionsView } from '../approval-card.js';
import { check as checkReachable } from '../reachability.js';

const enc = encodeURIComponent;
const STATUS = {
  idle: ['Idle', 'ok'],
  running: ['Running', 'busy'],
  waiting: ['Waiting for you', 'warn'],
  stopped: ['Stopped', 'muted'],
  error: ['Error', 'bad'],
};
const MODES = [
  ['default', 'Ask me (approvals)', 'Each tool call that changes something waits for your Allow.'],
  ['acceptEdits', 'Accept file edits', 'File edits go ahead; other tools still ask.'],
  ['plan', 'Plan only', 'The agent plans and changes nothing.'],
  ['bypassPermissions', 'Never ask', 'Every tool call goes ahead without asking. Use with care.'],
];
const BUSY = new Set(['running', 'waiting']);
const TRANSCRIPT_PAGE = 500;

// Survive the re-render that each navigation brings.
let showArchived = false;
let focusSeq = null; // a search hit to scroll to once its session shows

const instanceHref = (iid) => `#/sessions/${enc(iid)}`;
const sessionHref = (iid, sid) => `#/sessions/${enc(iid)}/${enc(sid)}`;

/** `#/sessions/<instance id>/<session id>` (both optional). */
function parseRoute() {
  try {
    const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
    return { iid: parts[1] || null, sid: parts[2] || null };
  } catch {
    return { iid: null, sid: null };
  }
}

function statusChip(status, id) {
  const [text, kind] = STATUS[status] || [status || 'Unknown', 'muted'];
  return h('span', { class: ['status-chip', kind], 'data-status': status || '', id, text });
}

function unavailable(what, err, ctx) {
  return h('div', { class: 'load-error callout sessions-unavailable', role: 'alert' },
    h('p', { text: `${what} could not load: ${explain(err)}` }),
    h('button', {
      type: 'button', text: 'Try again',
      on: { click: () => { if (ctx.alive()) window.dispatchEvent(new HashChangeEvent('hashchange')); } },
    }));
}

const rethrow = (err, ctx) => err.status === 0 || err.status === 401 || !ctx.alive();
const cost = (usd) => (typeof usd === 'number' && usd > 0 ? `$${usd < 0.01 ? usd.toFixed(4) : usd.toFixed(2)}` : null);
const typeName = (caps, type) => caps.find((c) => c.type === type)?.name || type;

export async function render(ctx) {
  const { iid, sid } = parseRoute();
  const head = pageTitle(ctx.view, 'Sessions');
  ctx.view.append(hubTabs('sessions'));

  let caps;
  let instances;
  try {
    const [c, list] = await Promise.all([api.get('/capabilities'), api.get('/instances')]);
    caps = c?.agents || [];
    instances = list?.instances || [];
  } catch (err) {
    if (rethrow(err, ctx)) throw err;
    ctx.view.append(unavailable('Agent sessions', err, ctx));
    return;
  }
  if (!ctx.alive()) return;

  const current = iid ? instances.find((i) => i.id === iid) : instances[0] || null;
  const layout = h('div', { class: ['sessions-layout', sid && 'has-session'] });
  const side = h('div', { class: 'sessions-side' });
  const pane = h('div', { class: 'sessions-main' });
  layout.append(side, pane);
  ctx.view.append(layout);

  side.append(instancesCard(ctx, caps, instances, current));
  if (iid && !current) {
    pane.append(h('div', { class: 'load-error callout', role: 'alert' },
      h('p', { text: 'There is no agent instance with this id. It may have been deleted.' }),
      h('p', {}, h('a', { href: '#/sessions', text: 'See all instances' }))));
    return;
  }
  if (!current) return;

  const lists = sessionsCard(ctx, current, sid);
  side.append(lists.card);
  if (sid) {
    head.prepend(h('a', { href: instanceHref(current.id), class: 'back-link sessions-back', text: `← ${current.name}: all sessions` }));
    await sessionView(ctx, pane, current, sid, lists.reload);
  } else {
    pane.append(instanceCard(ctx, caps, current, lists.setInstance));
  }
  await lists.ready;
}

// ---------------------------------------------------------------- instances

function instancesCard(ctx, caps, instances, current) {
  const titleId = uid('s');
  const card = h('section', { class: 'card', id: 'agent-instances', 'aria-labelledby': titleId },
    h('h2', { id: titleId, text: 'Agent instances' }));
  if (!instances.length) {
    card.append(empty('No agent instances yet. Create one below: it runs a coding agent installed on this computer.'));
  } else {
    card.append(h('ul', { class: 'instance-list' }, instances.map((i) => h('li', {},
      h('a', { href: instanceHref(i.id), class: 'instance-item', 'aria-current': i.id === current?.id ? 'true' : null },
        h('span', { class: 'instance-name', text: i.name }),
        h('span', { class: 'instance-sub muted' }, typeName(caps, i.type), i.remote ? ' · remote' : '',
          ` · ${i.sessions || 0} session${i.sessions === 1 ? '' : 's'}`),
        i.available
          ? null
          : h('span', { class: 'badge warn', text: i.remote ? 'Host not reachable' : 'Not installed' }))))));
  }

  const typeId = uid('f');
  const typeSel = h('select', { id: typeId, name: 'type', required: true },
    caps.map((c) => h('option', { value: c.type, text: c.installed ? c.name : `${c.name} (not installed)` })));
  const hint = h('div', { class: 'install-hint', 'aria-live': 'polite' });
  const name = field('Name', { name: 'name', maxLength: 100, required: true, autocomplete: 'off', placeholder: 'e.g. Claude on this laptop' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Create instance' });
  const actions = h('div', { class: 'actions' }, submit);
  const form = h('form', { id: 'instance-form', class: 'stack' },
    h('div', { class: 'field' }, h('label', { for: typeId, text: 'Agent' }), typeSel), hint, name.wrap, actions);
  const showHint = () => {
    const c = caps.find((x) => x.type === typeSel.value);
    fill(hint, c && !c.installed
      ? h('p', { class: 'callout small' }, `${c.name} is not installed on this computer. You can create the instance now; to run sessions, install it`,
        c.install_hint ? [' with ', h('code', { class: 'wrap', text: c.install_hint })] : '', ', then come back.')
      : c ? h('p', { class: 'note' }, 'Found ', c.path ? h('code', { class: 'wrap', text: c.path }) : 'it',
        c.version ? `, version ${c.version}.` : '.') : null);
  };
  typeSel.addEventListener('change', showHint);
  showHint();
  if (!caps.length) {
    submit.disabled = true;
    fill(hint, h('p', { class: 'muted', text: 'This Holdfast knows no coding agents.' }));
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      try {
        const inst = await api.post('/instances', { type: typeSel.value, name: name.input.value.trim() });
        clearInlineError(actions);
        notify(`Instance “${inst.name}” created.`);
        location.hash = instanceHref(inst.id);
      } catch (err) {
        inlineError(actions, err);
      }
    });
  });
  const details = h('details', { class: 'new-instance', open: !instances.length },
    h('summary', { text: 'New instance' }), form);
  card.append(details);
  return card;
}

/** The instance's program, key and workspaces (shown when no session is open). */
function instanceCard(ctx, caps, inst, onChange) {
  const titleId = uid('s');
  const card = h('section', { class: 'card instance-card', id: 'agent-instance', 'aria-labelledby': titleId });
  const cap = caps.find((c) => c.type === inst.type);

  function draw() {
    const program = inst.program
      ? [h('code', { class: 'wrap', text: inst.program.path || '' }), inst.program.version ? ` · version ${inst.program.version}` : '']
      : h('span', { class: 'badge warn', text: inst.remote ? 'Host not reachable' : 'Not installed' });
    const parts = [
      h('h2', { id: titleId, text: inst.name }),
      facts([
        ['Agent', typeName(caps, inst.type) + (inst.remote ? ' (on another device)' : '')],
        ['Program', program],
        ['Sign-in', h('span', { class: 'auth-detail' }, inst.auth?.detail || (inst.auth?.status === 'none' ? 'No key yet' : inst.auth?.status || 'Unknown'))],
        ['Permission', MODES.find(([m]) => m === inst.defaults?.permission_mode)?.[1]],
      ]),
    ];
    if (!inst.available && !inst.remote) {
      parts.push(h('div', { class: 'callout not-installed', role: 'note' },
        h('p', { text: `${cap?.name || inst.type} is not installed on this computer, so this instance cannot run sessions yet.` }),
        cap?.install_hint ? h('p', {}, 'Install it with ', h('code', { class: 'wrap', text: cap.install_hint }), ', then reload this page.') : null));
    }
    fill(card, parts, keysBlock(), workspacesBlock(), dangerBlock());
  }

  async function reload() {
    try {
      const next = await api.get(`/instances/${enc(inst.id)}`);
      if (!ctx.alive()) return;
      inst = next;
      onChange(inst);
      if (!card.contains(document.activeElement) || document.activeElement.tagName === 'BUTTON') draw();
    } catch {
      /* shown by the shell */
    }
  }

  // Provider API keys: a password field each, never echoed; the hint says which key is set.
  let providers = inst.providers || [];
  const keysSlot = h('div', { class: 'provider-keys' });
  function keysBlock() {
    const id = uid('s');
    drawKeys();
    return h('section', { class: 'instance-block', 'aria-labelledby': id },
      h('h3', { id, text: 'API key' }),
      h('p', { class: 'muted small', text: 'The agent signs in to its model provider with this key. Holdfast keeps it sealed on this computer and hands it to the agent only; it is never shown again.' }),
      keysSlot);
  }
  function drawKeys() {
    if (!providers.length) {
      fill(keysSlot, empty('This agent needs no key here.'));
      return;
    }
    fill(keysSlot, providers.map((p) => {
      const key = field(`${p.name || p.id} API key`, {
        type: 'password', name: `key-${p.id}`, autocomplete: 'new-password', spellcheck: false, maxLength: 500,
        placeholder: p.key_set ? `Set (${p.key_hint || 'hidden'}); type to replace` : 'Paste the key',
      });
      key.input.dataset.provider = p.id;
      const baseUrl = field('Base URL (optional)', { type: 'url', name: `base-${p.id}`, value: p.base_url || '', maxLength: 500, placeholder: 'https://…', autocomplete: 'off' },
        'Only for a proxy or a compatible API; leave empty for the provider’s own.');
      const save = h('button', { type: 'submit', class: 'primary', text: p.key_set ? 'Replace key' : 'Save key' });
      const remove = p.key_set ? h('button', { type: 'button', class: 'danger', text: 'Remove key' }) : null;
      const actions = h('div', { class: 'actions' }, save, remove);
      const state = h('p', { class: 'key-state' },
        p.key_set ? h('span', { class: 'badge ok', text: 'Key set' }) : h('span', { class: 'badge warn', text: 'No key' }),
        p.key_set && p.key_hint ? h('code', { class: 'key-hint', text: ` ${p.key_hint}` }) : null);
      const form = h('form', { class: 'stack provider-form', 'data-provider': p.id },
        state, key.wrap, h('details', { class: 'advanced', open: !!p.base_url }, h('summary', { text: 'Advanced' }), baseUrl.wrap), actions);
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const apiKey = key.input.value.trim();
        if (!apiKey) {
          inlineError(actions, 'Paste the key first.');
          key.input.focus();
          return;
        }
        busy(save, async () => {
          try {
            const body = { api_key: apiKey };
            if (baseUrl.input.value.trim()) body.base_url = baseUrl.input.value.trim();
            const next = await api.put(`/instances/${enc(inst.id)}/providers/${enc(p.id)}`, body);
            key.input.value = '';
            providers = providers.map((x) => (x.id === p.id ? { ...x, ...next } : x));
            notify(`${p.name || p.id} key saved.`);
            await reload();
            drawKeys();
          } catch (err) {
            key.input.value = '';
            inlineError(actions, err);
          }
        });
      });
      remove?.addEventListener('click', async () => {
        if (!await confirmDialog(`Remove the ${p.name || p.id} key from ${inst.name}? Its sessions cannot reach the model until you set one again.`, 'Remove key')) return;
        await busy(remove, async () => {
          try {
            await api.del(`/instances/${enc(inst.id)}/providers/${enc(p.id)}`);
            providers = providers.map((x) => (x.id === p.id ? { ...x, key_set: false, key_hint: null } : x));
            await reload();
            drawKeys();
          } catch (err) {
            inlineError(actions, err);
          }
        });
      });
      return h('div', { class: 'provider' }, providers.length > 1 ? h('h4', { text: p.name || p.id }) : null, form);
    }));
  }
  api.get(`/instances/${enc(inst.id)}/providers`).then((r) => {
    if (!ctx.alive() || !Array.isArray(r?.providers)) return;
    providers = r.providers;
    if (!keysSlot.contains(document.activeElement)) drawKeys();
  }).catch(() => {});

  function workspacesBlock() {
    const id = uid('s');
    const list = (inst.workspaces || []).length
      ? h('ul', { class: 'workspace-list' }, inst.workspaces.map((w) => {
        const remove = h('button', { type: 'button', class: 'danger small', text: 'Remove', 'aria-label': `Remove workspace ${w.name || w.path}` });
        remove.addEventListener('click', async () => {
          if (!await confirmDialog(`Stop offering ${w.path} to new sessions? Its files stay where they are.`, 'Remove workspace')) return;
          await busy(remove, async () => {
            try {
              await api.del(`/instances/${enc(inst.id)}/workspaces`, { query: { path: w.path } });
              await reload();
            } catch (err) {
              inlineError(remove, err);
            }
          });
        });
        return h('li', { class: 'workspace' },
          h('span', { class: 'workspace-name', text: w.name || fmt.baseName(w.path) }),
          h('code', { class: 'wrap muted', text: w.path }), remove);
      }))
      : empty('No workspace folders yet. Sessions work inside one: add the folder of a project.');
    const path = field('Folder', { name: 'path', required: true, maxLength: 4096, autocomplete: 'off', spellcheck: false, placeholder: '/home/you/src/app' },
      'A folder on this computer, written in full.');
    const name = field('Name (optional)', { name: 'name', maxLength: 100, autocomplete: 'off' });
    const add = h('button', { type: 'submit', text: 'Add workspace' });
    const actions = h('div', { class: 'actions' }, add);
    const form = h('form', { class: 'stack workspace-form' }, path.wrap, name.wrap, actions);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(add, async () => {
        try {
          const body = { path: path.input.value.trim() };
          if (name.input.value.trim()) body.name = name.input.value.trim();
          await api.post(`/instances/${enc(inst.id)}/workspaces`, body);
          clearInlineError(actions);
          notify('Workspace added.');
          await reload();
        } catch (err) {
          inlineError(actions, err.status === 400 ? `${explain(err)} Write the full path of a folder that exists.` : err);
        }
      });
    });
    return h('section', { class: 'instance-block', 'aria-labelledby': id, id: 'instance-workspaces' },
      h('h3', { id, text: 'Workspace folders' }), list, form);
  }

  function dangerBlock() {
    const del = h('button', { type: 'button', class: 'danger', 'data-action': 'delete-instance', text: 'Delete instance' });
    del.addEventListener('click', async () => {
      if (!await confirmDialog(`Delete ${inst.name}? Its running sessions stop, and its sessions, transcripts and settings are removed. Your workspace folders stay.`, 'Delete instance')) return;
      await busy(del, async () => {
        try {
          await api.del(`/instances/${enc(inst.id)}`);
          notify(`${inst.name} deleted.`);
          location.hash = '#/sessions';
        } catch (err) {
          inlineError(del, err);
        }
      });
    });
    return h('div', { class: 'actions instance-danger' }, del);
  }

  draw();
  return card;
}

// ---------------------------------------------------------------- sessions list

function sessionsCard(ctx, inst, sid) {
  const titleId = uid('s');
  const card = h('section', { class: 'card', id: 'agent-sessions', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, 'Sessions', h('span', { class: 'muted', text: ` · ${inst.name}` })));
  const searchId = uid('f');
  const search = h('input', { type: 'search', id: searchId, name: 'q', maxLength: 200, autocomplete: 'off', placeholder: 'Words from the transcripts' });
  const archived = checkbox('Show archived', { name: 'archived', checked: showArchived });
  const found = h('p', { class: 'sr-only', role: 'status' });
  const tools = h('div', { class: 'sessions-tools' },
    h('div', { class: 'field sessions-search' }, h('label', { for: searchId, text: 'Search sessions' }), search), archived.wrap, found);
  const body = h('div', { class: 'session-list-body' }, skeleton(3, 'Loading sessions…'));
  const results = h('div', { class: 'search-results', hidden: true });
  let formDetails = newSessionForm(inst);
  card.append(tools, results, body, formDetails);
  /** The instance changed (a workspace added): the new-session form offers it. */
  function setInstance(next) {
    if (formDetails.contains(document.activeElement)) return;
    const fresh = newSessionForm(next);
    fresh.open = formDetails.open;
    formDetails.replaceWith(fresh);
    formDetails = fresh;
  }

  let sessions = null;
  function item(s) {
    return h('li', {},
      h('a', { href: sessionHref(inst.id, s.id), class: 'session-item', 'data-session': s.id, 'aria-current': s.id === sid ? 'page' : null },
        h('span', { class: 'session-item-head' },
          h('span', { class: 'session-title', text: s.title || 'Untitled session' }),
          statusChip(s.status)),
        h('span', { class: 'session-sub muted' },
          s.workspace ? fmt.baseName(s.workspace) : 'no folder',
          ` · ${s.message_count || 0} message${s.message_count === 1 ? '' : 's'}`,
          ` · ${fmt.ago(s.last_message_ms || s.updated_ms || s.created_ms)}`,
          s.archived ? ' · archived' : ''),
        s.pending_approvals ? h('span', { class: 'badge warn', text: `${s.pending_approvals} waiting for you` }) : null));
  }
  function draw() {
    const key = JSON.stringify(sessions);
    if (body.dataset.drawn === key) return;
    body.dataset.drawn = key;
    fill(body, sessions.length
      ? h('ul', { class: 'session-list' }, sessions.map(item))
      : empty(showArchived ? 'No sessions yet.' : 'No sessions yet. Start one below.'));
    if (!sessions.length && !sid) formDetails.open = true;
  }
  async function load() {
    const r = await api.get(`/instances/${enc(inst.id)}/sessions`, { archived: showArchived ? 'all' : 'false' });
    if (!ctx.alive()) return;
    sessions = r?.sessions || [];
    draw();
  }
  const reload = () => load().catch(() => {});
  const ready = load().catch((err) => {
    if (!ctx.alive() || err.status === 0 || err.status === 401) return;
    fill(body, unavailable('The sessions', err, ctx));
  });
  archived.input.addEventListener('change', () => {
    showArchived = archived.input.checked;
    reload();
  });

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
    if (!results.firstChild) results.append(skeleton(2, 'Searching…'));
    try {
      const r = await api.get(`/instances/${enc(inst.id)}/search`, { q, limit: 30 });
      if (mine !== seq || !ctx.alive()) return;
      const hits = r?.results || [];
      found.textContent = `${hits.length} match${hits.length === 1 ? '' : 'es'}.`;
      fill(results, hits.length
        ? h('ul', { class: 'search-hits' }, hits.map((hit) => {
          const a = h('a', { href: sessionHref(inst.id, hit.session_id), class: 'search-hit' },
            h('span', { class: 'session-title', text: hit.session_title || 'Untitled session' }),
            h('span', { class: 'hit-snippet', text: hit.snippet || '' }),
            h('span', { class: 'muted small', text: `${hit.role || ''} · ${fmt.when(hit.ts_ms)}` }));
          a.addEventListener('click', () => { focusSeq = hit.seq; });
          return h('li', {}, a);
        }))
        : empty(`Nothing in the transcripts matches “${q}”.`));
    } catch (err) {
      if (mine !== seq || !ctx.alive()) return;
      results.replaceChildren();
      inlineError(results, err);
      found.textContent = '';
    }
  }
  ctx.onCleanup(searchAsYouType(search, runSearch, 300));

  let soon = null;
  ctx.subscribe(['agent_session'], (e) => {
    if (e.instance_id && e.instance_id !== inst.id) return;
    clearTimeout(soon);
    soon = setTimeout(reload, 300);
  });
  ctx.onCleanup(() => clearTimeout(soon));
  ctx.every(reload, 15_000);
  return { card, ready, reload, setInstance };
}

function modeSelect(value, attrs = {}) {
  const id = attrs.id || uid('f');
  const hintId = `${id}-hint`;
  const select = h('select', { id, name: 'permission_mode', 'aria-describedby': hintId },
    MODES.map(([m, label]) => h('option', { value: m, text: label, selected: m === (value || 'default') })));
  const hint = h('small', { class: 'hint', id: hintId });
  const say = () => { hint.textContent = MODES.find(([m]) => m === select.value)?.[2] || ''; };
  select.addEventListener('change', say);
  say();
  return { select, wrap: h('div', { class: 'field' }, h('label', { for: id, text: 'Tool permissions' }), select, hint) };
}

function newSessionForm(inst) {
  const title = field('Title (optional)', { name: 'title', maxLength: 100, autocomplete: 'off', placeholder: 'e.g. Fix the build' });
  const wsId = uid('f');
  const spaces = inst.workspaces || [];
  const workspace = h('select', { id: wsId, name: 'workspace' },
    spaces.length
      ? spaces.map((w) => h('option', { value: w.path, text: `${w.name || fmt.baseName(w.path)} (${w.path})` }))
      : h('option', { value: '', text: 'No folder registered' }));
  const mode = modeSelect(inst.defaults?.permission_mode);
  const prompt = field('First prompt (optional)', { tag: 'textarea', name: 'prompt', rows: 3, maxLength: 100000, placeholder: 'What should the agent do?' },
    'With a prompt, the agent starts working right away.');
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Start session' });
  const actions = h('div', { class: 'actions' }, submit);
  const notReady = inst.available ? null : h('p', { class: 'callout small', role: 'note',
    text: inst.remote ? 'The device this instance runs on is not reachable now.' : 'The agent program is not installed on this computer: install it to start sessions.' });
  const noSpace = spaces.length ? null : h('p', { class: 'note', text: 'Add a workspace folder in the instance’s settings to let the agent work on a project.' });
  const fieldset = h('fieldset', { class: 'bare', disabled: !inst.available },
    h('legend', { class: 'sr-only', text: 'New session' }),
    title.wrap, h('div', { class: 'field' }, h('label', { for: wsId, text: 'Workspace' }), workspace), noSpace, mode.wrap, prompt.wrap, actions);
  const form = h('form', { id: 'session-form', class: 'stack' }, notReady, fieldset);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      try {
        const body = { permission_mode: mode.select.value };
        if (title.input.value.trim()) body.title = title.input.value.trim();
        if (workspace.value) body.workspace = workspace.value;
        if (prompt.input.value.trim()) body.prompt = prompt.input.value;
        const s = await api.post(`/instances/${enc(inst.id)}/sessions`, body);
        clearInlineError(actions);
        location.hash = sessionHref(inst.id, s.id);
      } catch (err) {
        inlineError(actions, err);
      }
    });
  });
  return h('details', { class: 'new-session' },
    h('summary', { text: 'New session' }), form,
    h('p', { class: 'small' }, h('a', { href: instanceHref(inst.id), text: 'Instance settings: key and workspace folders' })));
}

// ---------------------------------------------------------------- one session

async function sessionView(ctx, pane, inst, sid, reloadList) {
  const base = `/sessions/${enc(sid)}`;
  let session;
  let approvals;
  const messages = new Map(); // seq → message
  try {
    const [s, a] = await Promise.all([api.get(base), api.get(`${base}/approvals`)]);
    session = s;
    approvals = new Map((a?.approvals || []).map((x) => [x.id, x]));
    await loadTranscript();
  } catch (err) {
    if (rethrow(err, ctx)) throw err;
    pane.append(h('div', { class: 'load-error callout session-unavailable', role: 'alert' },
      h('p', { text: `This session could not load: ${explain(err)}` }),
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', text: 'Try again',
          on: { click: () => { if (ctx.alive()) window.dispatchEvent(new HashChangeEvent('hashchange')); } },
        }),
        h('a', { href: instanceHref(inst.id), text: `All sessions of ${inst.name}` }))));
    return;
  }
  if (!ctx.alive()) return;

  async function loadTranscript() {
    for (let guard = 0; guard < 200; guard += 1) {
      const after = messages.size ? Math.max(...messages.keys()) : null;
      const r = await api.get(`${base}/transcript`, { after, limit: TRANSCRIPT_PAGE });
      const page = r?.messages || [];
      for (const m of page) messages.set(m.seq, m);
      if (page.length < TRANSCRIPT_PAGE) return;
    }
  }

  const titleId = uid('s');
  const title = h('h2', { id: titleId, class: 'session-title-text' });
  const chipSlot = h('span', { class: 'chip-slot', 'aria-live': 'polite' });
  const errorLine = h('p', { class: 'session-error', role: 'alert' });
  const meta = h('div', { class: 'session-meta' });
  const resume = h('button', { type: 'button', 'data-action': 'resume', text: 'Resume' });
  const archive = h('button', { type: 'button', 'data-action': 'archive' });
  const settingsBtn = h('button', { type: 'button', 'data-action': 'settings', text: 'Settings', 'aria-expanded': 'false', 'aria-controls': `${titleId}-settings` });
  const del = h('button', { type: 'button', class: 'danger', 'data-action': 'delete', text: 'Delete' });
  const actions = h('div', { class: 'actions session-actions' }, resume, archive, settingsBtn, del);
  const settings = h('div', { class: 'session-settings', id: `${titleId}-settings`, hidden: true });

  const noMessages = empty('No messages yet. Write the first prompt below.');
  const log = h('ol', { class: 'transcript', id: 'session-transcript' });
  const logWrap = h('div', { class: 'transcript-scroll', tabIndex: 0, role: 'log', 'aria-label': 'Transcript' }, noMessages, log);
  const approvalsBox = h('div', { class: 'session-approvals', id: 'session-approvals' });
  const answered = h('p', { class: 'sr-only', role: 'status' });

  const input = h('textarea', { id: 'session-input', rows: 3, maxLength: 100000, 'aria-describedby': 'session-input-hint' });
  const send = h('button', { type: 'submit', class: 'primary', 'data-action': 'send', text: 'Send' });
  const stop = h('button', { type: 'button', class: 'danger', 'data-action': 'stop-run', text: 'Stop' });
  const sendRow = h('div', { class: 'chat-send-row' }, input, send, stop);
  const promptHint = h('small', { id: 'session-input-hint', class: 'hint' });
  const form = h('form', { id: 'session-prompt', class: 'chat-form' },
    h('label', { for: 'session-input', text: 'Message to the agent' }), sendRow, promptHint);

  const missing = inst.available ? null : h('p', { class: 'callout small session-missing', role: 'note' },
    inst.remote
      ? 'The device this instance runs on is not reachable now: new turns cannot start until it is.'
      : ['The agent program is not installed on this computer, so new turns cannot run. ',
        h('a', { href: instanceHref(inst.id), text: 'How to install it' })]);
  const view = h('section', { class: 'card session-view', id: 'agent-session', 'aria-labelledby': titleId },
    h('div', { class: 'session-head' }, title, chipSlot), errorLine, meta, actions, settings,
    logWrap, approvalsBox, answered, missing, form);
  const files = filesCard(ctx, base);
  pane.append(view, files.card);

  // ---- head
  function drawHead() {
    title.textContent = session.title || 'Untitled session';
    document.title = `${title.textContent} · Sessions · Holdfast`;
    fill(chipSlot, statusChip(session.status, 'session-status'));
    errorLine.hidden = !(session.status === 'error' && session.error);
    errorLine.textContent = session.error ? `The last run failed: ${session.error}` : '';
    const forked = session.forked_from;
    fill(meta, facts([
      ['Workspace', session.workspace ? h('code', { class: 'wrap', text: session.workspace }) : 'None'],
      ['Model', session.model || 'The agent’s default'],
      ['Tools', MODES.find(([m]) => m === session.permission_mode)?.[1] || session.permission_mode],
      ['Cost', cost(session.cost_usd) || undefined],
      ['Forked from', forked?.session_id
        ? h('a', { href: sessionHref(inst.id, forked.session_id), text: `another session, at message ${forked.seq}` })
        : undefined],
    ]));
    const going = BUSY.has(session.status);
    resume.hidden = !(session.status === 'stopped' || session.status === 'error');
    archive.textContent = session.archived ? 'Unarchive' : 'Archive';
    archive.dataset.action = session.archived ? 'unarchive' : 'archive';
    // The prompt: disabled while a turn runs, Stop beside it.
    input.disabled = going || session.archived;
    send.hidden = going;
    stop.hidden = !going;
    input.placeholder = going ? 'The agent is working…' : 'Ask the agent…';
    promptHint.textContent = session.archived
      ? 'This session is archived: unarchive it to continue.'
      : going
        ? (session.status === 'waiting' ? 'The agent waits for your answer above.' : 'The agent is working. Stop ends this turn.')
        : 'Enter sends; Shift+Enter starts a new line.';
    if (going && document.activeElement === input) stop.focus();
  }

  // ---- transcript
  function bubble(m, who, cls) {
    return h('div', { class: ['bubble', cls] },
      h('span', { class: 'bubble-from', text: who }),
      h('p', { class: 'bubble-text', text: m.text || '' }));
  }
  function forkButton(m) {
    const b = h('button', { type: 'button', class: 'link-button fork', 'data-action': 'fork', text: 'Fork from here', 'aria-label': `Fork from here: a new session from message ${m.seq}` });
    b.addEventListener('click', () => busy(b, async () => {
      try {
        const s = await api.post(`${base}/fork`, { seq: m.seq });
        notify('Forked: the new session starts from that message.');
        location.hash = sessionHref(inst.id, s.id);
      } catch (err) {
        inlineError(b, err);
      }
    }));
    return b;
  }
  function stamp(m) {
    if (!m.ts_ms) return null;
    const today = new Date(m.ts_ms).toDateString() === new Date().toDateString();
    return h('time', { class: 'msg-time', dateTime: new Date(m.ts_ms).toISOString(), text: today ? fmt.clock(m.ts_ms) : fmt.when(m.ts_ms) });
  }
  function messageEl(m) {
    const kind = m.kind || 'text';
    let body;
    let forkable = false;
    if (kind === 'text' && m.role === 'user') {
      body = bubble(m, 'You', 'to-agent');
      forkable = true;
    } else if (kind === 'text') {
      body = bubble(m, inst.name, 'from-agent');
      forkable = true;
    } else if (kind === 'thinking') {
      body = h('details', { class: 'msg-details' }, h('summary', { text: 'Thinking' }), h('p', { class: 'bubble-text', text: m.text || '' }));
    } else if (kind === 'tool_use') {
      const name = m.tool?.name || 'tool';
      const line = (m.text || '').startsWith(name) ? m.text.slice(name.length).replace(/^[:\s]+/, '') : (m.text || '');
      body = h('details', { class: 'msg-details tool-call' },
        h('summary', {}, h('span', { class: 'tool-name', text: name }), line ? h('span', { class: 'tool-line', text: ` ${line}` }) : null),
        toolInputView(name, m.tool?.input, m.text));
    } else if (kind === 'tool_result') {
      const bad = !!m.tool?.is_error;
      const first = (m.text || '').split('\n')[0].slice(0, 120);
      body = h('details', { class: ['msg-details', 'tool-result', bad && 'is-error'] },
        h('summary', {}, h('span', { text: bad ? 'Tool failed' : 'Result' }), first ? h('span', { class: 'tool-line', text: ` ${first}` }) : null),
        h('pre', { class: 'tool-output', tabindex: '0', 'aria-label': 'Tool output' }, h('code', { text: m.text || '(no output)' })));
    } else if (kind === 'result') {
      const usd = cost(m.cost_usd);
      body = h('p', { class: 'msg-line result-line' }, h('span', { text: m.text || 'Turn finished' }), usd ? h('span', { class: 'msg-cost', text: ` · ${usd}` }) : null);
      forkable = true;
    } else if (kind === 'error') {
      body = h('p', { class: 'msg-line error-line', text: m.text || 'Error' });
    } else {
      body = h('p', { class: 'msg-line system-line', text: m.text || (kind === 'init' ? 'Session started' : kind) });
    }
    return h('li', { class: ['msg', `role-${m.role || 'system'}`, `kind-${kind}`], 'data-seq': String(m.seq), tabIndex: -1 },
      body, h('div', { class: 'msg-foot' }, stamp(m), forkable ? forkButton(m) : null));
  }
  function nearBottom() {
    return logWrap.scrollHeight - logWrap.scrollTop - logWrap.clientHeight < 60;
  }
  function drawAll() {
    const sorted = [...messages.values()].sort((a, b) => a.seq - b.seq);
    fill(log, sorted.map(messageEl));
    noMessages.hidden = sorted.length > 0;
  }
  function addMessage(m) {
    if (!m || typeof m.seq !== 'number' || messages.has(m.seq)) return;
    const near = nearBottom();
    const last = log.lastElementChild ? Number(log.lastElementChild.dataset.seq) : -Infinity;
    messages.set(m.seq, m);
    if (m.seq > last) log.append(messageEl(m));
    else drawAll();
    noMessages.hidden = true;
    if (near) logWrap.scrollTop = logWrap.scrollHeight;
  }

  // ---- approvals and questions, inline
  function approvalEl(a) {
    const headId = uid('a');
    const card = h('article', { class: 'session-approval', 'data-id': a.id, 'data-kind': a.kind, 'aria-labelledby': headId });
    const actionsRow = h('div', { class: 'actions' });
    async function answer(path, body, said, buttons) {
      for (const b of buttons) b.disabled = true;
      clearInlineError(actionsRow);
      try {
        await api.post(path, body);
        approvals.delete(a.id);
        answered.textContent = said;
        drawApprovals();
        input.focus();
      } catch (err) {
        for (const b of buttons) b.disabled = false;
        inlineError(actionsRow, err.status === 404 ? 'This request is no longer waiting: it was answered elsewhere or timed out.' : err);
        if (err.status === 404) setTimeout(() => { approvals.delete(a.id); drawApprovals(); }, 2500);
      }
    }
    const by = a.deadline_ms
      ? h('p', { class: 'note approval-deadline', text: `Unanswered by ${fmt.clock(a.deadline_ms)}, it is ${a.kind === 'tool_call' ? 'denied' : 'skipped'}.` })
      : null;
    if (a.kind === 'question' || a.kind === 'agent_question') {
      const groups = (a.questions || []).map((q, n) => {
        const name = `${headId}-q${n}`;
        const opts = (q.options || []).map((o) => {
          const id = uid('o');
          return h('div', { class: 'check option' },
            h('input', { type: q.multiSelect ? 'checkbox' : 'radio', id, name, value: o.label }),
            h('label', { for: id }, h('strong', { text: o.label }), o.description ? h('span', { class: 'muted', text: ` — ${o.description}` }) : null));
        });
        return h('fieldset', { class: 'question', 'data-question': q.question },
          h('legend', {}, q.header ? h('span', { class: 'badge', text: q.header }) : null, ` ${q.question || ''}`),
          opts.length ? opts : h('p', { class: 'muted', text: 'No options: write your answer below.' }));
      });
      const other = field('Or write your answer', { tag: 'textarea', rows: 2, name: 'answer-text', maxLength: 10000 });
      const reply = h('button', { type: 'button', class: 'primary', 'data-action': 'reply', text: 'Send answer' });
      const skip = h('button', { type: 'button', 'data-action': 'skip', text: 'Skip' });
      actionsRow.append(reply, skip);
      reply.addEventListener('click', () => {
        const text = other.input.value.trim();
        const answers = {};
        for (const g of card.querySelectorAll('fieldset.question')) {
          const picked = [...g.querySelectorAll('input:checked')].map((i) => i.value);
          if (picked.length) answers[g.dataset.question] = picked.join(', ');
        }
        if (!text && !Object.keys(answers).length) {
          inlineError(actionsRow, 'Pick an option or write an answer, or Skip.');
          return;
        }
        answer(`${base}/questions/${enc(a.id)}/reply`, text ? { text } : { answers }, 'Answer sent.', [reply, skip]);
      });
      skip.addEventListener('click', () => answer(`${base}/questions/${enc(a.id)}/reject`, {}, 'Question skipped.', [reply, skip]));
      card.append(h('h3', { id: headId, text: `${inst.name} asks you` }), ...groups, other.wrap, by, actionsRow);
      if (!groups.length) card.insertBefore(questionsView(a.questions, a.preview), other.wrap);
      return card;
    }
    const deny = h('button', { type: 'button', class: 'danger', 'data-action': 'deny', text: 'Deny' });
    const allow = h('button', { type: 'button', class: 'primary', 'data-action': 'allow', text: 'Allow' });
    actionsRow.append(deny, allow);
    deny.addEventListener('click', () => answer(`${base}/approvals/${enc(a.id)}`, { decision: 'deny' }, `Denied ${a.tool_name || 'the tool call'}.`, [deny, allow]));
    allow.addEventListener('click', () => answer(`${base}/approvals/${enc(a.id)}`, { decision: 'allow' }, `Allowed ${a.tool_name || 'the tool call'}.`, [deny, allow]));
    card.append(
      h('h3', { id: headId }, `${inst.name} wants to use `, h('strong', { text: a.tool_name || 'a tool' })),
      toolInputView(a.tool_name, a.input, a.preview),
      by,
      actionsRow);
    return card;
  }
  function drawApprovals() {
    const items = [...approvals.values()].sort((a, b) => (a.created_ms || 0) - (b.created_ms || 0));
    const have = new Set([...approvalsBox.children].map((c) => c.dataset.id));
    const want = new Set(items.map((a) => a.id));
    for (const c of [...approvalsBox.children]) if (!want.has(c.dataset.id)) c.remove();
    for (const a of items) if (!have.has(a.id)) approvalsBox.append(approvalEl(a));
    approvalsBox.hidden = items.length === 0;
  }

  // ---- actions
  function setSession(s) {
    if (!s || s.id !== sid) return;
    session = s;
    drawHead();
  }
  async function act(button, path, said) {
    await busy(button, async () => {
      try {
        clearInlineError(actions);
        setSession(await api.post(path));
        if (said) notify(said);
        reloadList();
      } catch (err) {
        inlineError(actions, err);
      }
    });
  }
  stop.addEventListener('click', () => act(stop, `${base}/stop`, 'Stopped.'));
  resume.addEventListener('click', () => act(resume, `${base}/resume`));
  archive.addEventListener('click', () => act(archive, `${base}/${session.archived ? 'unarchive' : 'archive'}`, session.archived ? 'Unarchived.' : 'Archived.'));
  del.addEventListener('click', async () => {
    if (!await confirmDialog(`Delete “${session.title || 'this session'}” and its transcript? The files in its workspace stay.`, 'Delete session')) return;
    await busy(del, async () => {
      try {
        await api.del(base);
        notify('Session deleted.');
        location.hash = instanceHref(inst.id);
      } catch (err) {
        inlineError(actions, err);
      }
    });
  });
  settingsBtn.addEventListener('click', () => {
    const open = settings.hidden;
    settings.hidden = !open;
    settingsBtn.setAttribute('aria-expanded', String(open));
    if (open) {
      drawSettings();
      settings.querySelector('input')?.focus();
    }
  });

  function drawSettings() {
    const titleF = field('Title', { name: 'title', maxLength: 100, value: session.title || '', autocomplete: 'off' });
    const listId = uid('l');
    const model = field('Model', { name: 'model', maxLength: 128, value: session.model || '', autocomplete: 'off', placeholder: 'The agent’s default' },
      'Leave empty for the agent’s default.');
    model.input.setAttribute('list', listId);
    const models = h('datalist', { id: listId });
    api.get(`/instances/${enc(inst.id)}/models`).then((r) => {
      fill(models, (r?.models || []).map((m) => h('option', { value: m.id, text: m.name || m.id })));
    }).catch(() => {});
    const system = field('System prompt', { tag: 'textarea', name: 'system_prompt', rows: 3, maxLength: 65536, value: session.system_prompt || '' },
      'Extra instructions the agent gets with every turn.');
    const mode = modeSelect(session.permission_mode);
    const save = h('button', { type: 'submit', class: 'primary', text: 'Save settings' });
    const cancel = h('button', { type: 'button', text: 'Cancel' });
    const row = h('div', { class: 'actions' }, save, cancel);
    const f = h('form', { class: 'stack settings-form' }, titleF.wrap, model.wrap, models, system.wrap, mode.wrap, row);
    cancel.addEventListener('click', () => { settings.hidden = true; settingsBtn.setAttribute('aria-expanded', 'false'); settingsBtn.focus(); });
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(save, async () => {
        try {
          const body = {
            model: model.input.value.trim() || null,
            system_prompt: system.input.value.trim() ? system.input.value : null,
            permission_mode: mode.select.value,
          };
          // A session always has a title: an empty field keeps the one it has.
          if (titleF.input.value.trim()) body.title = titleF.input.value.trim();
          const next = await api.patch(`${base}/settings`, body);
          setSession(next);
          notify('Settings saved. They apply from the next turn.');
          settings.hidden = true;
          settingsBtn.setAttribute('aria-expanded', 'false');
          settingsBtn.focus();
          reloadList();
        } catch (err) {
          inlineError(row, err);
        }
      });
    });
    fill(settings, h('h3', { text: 'Session settings' }), f);
  }

  async function submit() {
    const text = input.value;
    if (!text.trim() || input.disabled || send.hidden) return;
    await busy(send, async () => {
      try {
        const again = session.status === 'stopped' || session.status === 'error';
        const next = again
          ? await api.post(`${base}/resume`, { text })
          : await api.post(`${base}/messages`, { text });
        clearInlineError(sendRow);
        input.value = '';
        setSession(next);
        logWrap.scrollTop = logWrap.scrollHeight;
      } catch (err) {
        inlineError(sendRow, err);
      }
    });
    if (!input.disabled) input.focus();
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });

  // ---- live
  function onStatus(status, error) {
    const was = BUSY.has(session.status);
    session = { ...session, status, error: error ?? (status === 'error' ? session.error : null) };
    drawHead();
    reloadList();
    // A turn ended: its files, cost and anything the stream missed.
    if (was && !BUSY.has(status)) {
      files.reload();
      syncSession();
    }
  }
  function handle(d) {
    if (!d || (d.session_id && d.session_id !== sid)) return;
    if (d.type === 'message') addMessage(d.message);
    else if (d.type === 'status') onStatus(d.status, d.error);
    else if (d.type === 'approval' && d.approval) {
      approvals.set(d.approval.id, d.approval);
      drawApprovals();
    } else if (d.type === 'approval_resolved') {
      approvals.delete(d.id);
      drawApprovals();
    }
  }
  async function syncSession() {
    try {
      const [s, a] = await Promise.all([api.get(base), api.get(`${base}/approvals`)]);
      await loadTranscript();
      if (!ctx.alive()) return;
      const before = log.children.length;
      if (messages.size !== before) {
        const near = nearBottom();
        drawAll();
        if (near) logWrap.scrollTop = logWrap.scrollHeight;
      }
      approvals = new Map((a?.approvals || []).map((x) => [x.id, x]));
      drawApprovals();
      if (BUSY.has(session.status) && !BUSY.has(s.status)) files.reload();
      setSession(s);
    } catch {
      /* the shell shows an unreachable daemon */
    }
  }
  let source = null;
  let retry = null;
  function openStream() {
    if (!ctx.alive() || !getToken()) return;
    source = new EventSource(tokenUrl(`${base}/events`));
    const onEvent = (e) => {
      let d;
      try {
        d = JSON.parse(e.data);
      } catch {
        return;
      }
      if (d && !d.type && e.type !== 'message') d.type = e.type;
      handle(d);
    };
    for (const t of ['message', 'status', 'approval', 'approval_resolved']) source.addEventListener(t, onEvent);
    // Too much at once for the stream: read it all again.
    source.addEventListener('lagged', () => syncSession());
    let opened = false;
    source.addEventListener('open', () => {
      view.dataset.live = 'true';
      // Whatever happened while the stream was away.
      if (opened) syncSession();
      opened = true;
    });
    source.addEventListener('error', () => {
      view.dataset.live = 'false';
      checkReachable();
      if (source && source.readyState === EventSource.CLOSED) {
        source = null;
        retry = setTimeout(openStream, 5000);
      }
    });
  }
  ctx.onCleanup(() => {
    clearTimeout(retry);
    if (source) source.close();
    source = null;
  });

  drawHead();
  drawAll();
  drawApprovals();
  openStream();
  // A missed event (a stream that reconnects) is made good by a slow poll;
  // the daemon's queue announcing a request or an answer syncs at once.
  ctx.every(syncSession, 10_000);
  let syncSoon = null;
  ctx.subscribe(['approval_requested', 'approval_resolved'], () => {
    clearTimeout(syncSoon);
    syncSoon = setTimeout(syncSession, 250);
  });
  ctx.onCleanup(() => clearTimeout(syncSoon));
  if (focusSeq !== null) {
    const target = log.querySelector(`li[data-seq="${focusSeq}"]`);
    focusSeq = null;
    if (target) {
      target.classList.add('found');
      target.scrollIntoView({ block: 'center' });
      target.focus({ preventScroll: true });
    }
  } else {
    logWrap.scrollTop = logWrap.scrollHeight;
  }
  await files.ready;
}

// ---------------------------------------------------------------- files

function filesCard(ctx, base) {
  const titleId = uid('s');
  const refresh = h('button', { type: 'button', class: 'small', 'data-action': 'refresh-files', text: 'Refresh' });
  const body = h('div', { class: 'files-body' }, skeleton(2, 'Loading files…'));
  const card = h('section', { class: 'card session-files', id: 'session-files', 'aria-labelledby': titleId },
    h('div', { class: 'files-head' }, h('h2', { id: titleId, text: 'Files in the workspace' }), refresh), body);
  async function load() {
    try {
      const r = await api.get(`${base}/files`);
      if (!ctx.alive()) return;
      const list = r?.files || [];
      const key = JSON.stringify(list);
      if (body.dataset.drawn === key) return;
      body.dataset.drawn = key;
      fill(body, list.length
        ? h('ul', { class: 'file-list' }, list.map((f) => {
          const href = `${tokenUrl(`${base}/files`)}&path=${enc(f.path)}`;
          return h('li', { class: 'file-row' },
            h('a', { href, download: fmt.baseName(f.path), class: 'file-link', 'aria-label': `Download ${f.path}` }, h('code', { class: 'wrap', text: f.path })),
            h('span', { class: 'muted small', text: `${fmt.bytes(f.size)} · ${fmt.ago(f.modified_ms)}` }));
        }))
        : empty('No files in the workspace yet.'));
    } catch (err) {
      if (!ctx.alive() || err.status === 0 || err.status === 401) return;
      delete body.dataset.drawn;
      fill(body, h('p', { class: 'muted', text: err.status === 404 ? 'This session has no workspace folder to list.' : `The files could not be listed: ${explain(err)}` }));
    }
  }
  refresh.addEventListener('click', () => busy(refresh, load));
  return { card, ready: load(), reload: () => load() };
}
