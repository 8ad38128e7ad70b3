// One approval request as a card: who asks (named by what Holdfast knows,
// never by the caller's claim alone), where the request comes from, what
// it would share or sign, the time left, and Deny (the default) / Allow
// (enabled after a second), with "Remember for …" where the daemon offers
// a grant. Used by the Approvals page and by the desktop app's popup window.

import { api } from './api.js';
import { h, facts, uid, checkbox, field } from './dom.js';
import { inlineError, clearInlineError } from './errors.js';
import * as events from './events.js';
import * as fmt from './format.js';

const VERBS = {
  link: 'wants to link to your identity',
  auth: 'wants to sign you in',
  sign: 'wants you to sign something',
  device_enrolment: 'wants to enrol as one of your agents',
  held_message: 'sent a room message a policy held for you',
  decision: 'asks you to decide',
  a2a_channel: 'wants an encrypted channel with another agent',
  tool_call: 'wants to use a tool',
  agent_question: 'asks you a question',
};

/** What the app would be allowed to do, for "You allowed X to …". */
const DEEDS = {
  link: 'link to your identity',
  auth: 'sign you in',
  sign: 'get a signature',
  tool_call: 'use this tool',
  agent_question: 'go on without an answer',
};

const REMEMBER = [
  [0, 'Ask every time'],
  [300, 'Remember for 5 minutes'],
  [3600, 'Remember for 1 hour'],
  [86400, 'Remember for 1 day'],
  [7 * 86400, 'Remember for 1 week'],
  [30 * 86400, 'Remember for 30 days'],
];
const PERIODS = { 300: '5 minutes', 3600: '1 hour', 86400: '1 day', [7 * 86400]: '1 week', [30 * 86400]: '30 days' };

const APPROVE_DELAY_MS = 1000;
/** In the last this-many ms the countdown turns urgent. */
const URGENT_MS = 15000;
/** Bytes of a blind payload shown before "Show all". */
const HEX_PREVIEW_BYTES = 32;

const SCOPE_LABELS = {
  display_name: 'Your display name',
  username: 'Your username',
  profile_picture: 'Your profile picture',
};

// How each request left the queue, as the daemon announced it
// (approval_resolved: allowed, denied, timeout, locked, withdrawn).
const outcomes = new Map();
const names = new Map();
events.subscribe(['approval_resolved'], (e) => {
  if (!e.id || !e.outcome) return;
  outcomes.set(e.id, e.outcome);
  if (outcomes.size > 200) outcomes.delete(outcomes.keys().next().value);
});

/** The announced outcome of request `id`, if it has been resolved. */
export function outcomeOf(id) {
  return outcomes.get(id);
}

/**
 * What was answered, in words: "You allowed Notes to link to your
 * identity.", "Timed out: denied. …". `a` is the request (or null).
 */
export function outcomeText(outcome, a) {
  const name = a?.requester?.app_name || names.get(a?.id) || 'the app';
  const deed = DEEDS[a?.kind] || 'go ahead';
  switch (outcome) {
    case 'allowed': return `You allowed ${name} to ${deed}.`;
    case 'denied': return `You denied ${name}: it may not ${deed}.`;
    case 'timeout': return `Timed out: denied. Nobody answered ${name} in time.`;
    case 'locked': return `Denied: Holdfast locked while ${name} was waiting.`;
    case 'withdrawn': return `${capitalise(name)} withdrew its request.`;
    default: return 'This request is no longer waiting.';
  }
}

function capitalise(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Who asks, as Holdfast knows it: registered or not, linked before or not, verified or claimed. */
function appFacts(who) {
  const notes = [];
  if (who.unregistered) notes.push(h('span', { class: 'badge warn', text: 'Unknown app: never linked before' }));
  else if (who.name_source === 'registered' && !who.linked) notes.push(h('span', { class: 'badge', text: 'Registered, not linked now' }));
  else if (who.name_source === 'registered') notes.push(h('span', { class: 'badge ok', text: 'Registered app' }));
  if (who.client_id && !who.verified) {
    notes.push(h('small', { class: 'note', text: 'It did not prove who it is: any program can send this app id.' }));
  }
  if (who.verified) notes.push(h('small', { class: 'note', text: 'It proved who it is with its own app token.' }));
  return [who.client_id ? h('code', { class: 'wrap', text: who.client_id }) : 'Did not say', ' ', ...notes];
}

function programFacts(who) {
  if (!who.exe) return who.pid ? `Unknown program (process ${who.pid})` : 'Unknown';
  return [h('code', { class: 'wrap', text: who.exe }),
    who.pid ? h('small', { class: 'note', text: `process ${who.pid}` }) : null];
}

/** Hex grouped in pairs, shortened to `bytes` with an ellipsis. */
function shortHex(hex, bytes) {
  const cut = hex.length > bytes * 2;
  return fmt.spacedHex(cut ? hex.slice(0, bytes * 2) : hex) + (cut ? ' …' : '');
}

/** The payload of a sign request: readable text, or a blind-signing warning with its bytes. */
function signPreview(d) {
  const isText = typeof d.text === 'string' && d.printable !== false && fmt.printable(d.text) && d.text.length > 0;
  const size = fmt.bytes(d.size);
  if (isText) {
    const textId = uid('t');
    return h('figure', { class: 'preview sign-preview' },
      h('figcaption', { id: textId }, 'It asks you to sign this text',
        h('span', { class: 'muted', text: ` · ${size}${d.truncated ? ', only the start is shown' : ''}` })),
      h('pre', { class: 'sign-text', tabindex: '0', 'aria-labelledby': textId, text: d.text }));
  }
  const hex = d.hex || '';
  const shownBytes = hex.length / 2;
  const parts = [
    h('p', { class: 'blind-warning', role: 'note' },
      h('strong', { text: 'Blind signing. ' }),
      'These bytes are not readable text, so you cannot check what you would be signing. ',
      'Allow only if you started this in the app and trust it.'),
    h('figcaption', {}, 'Data to sign (hexadecimal)', h('span', { class: 'muted', text: ` · ${size}` })),
    h('pre', { class: 'hex-short', text: shortHex(hex, HEX_PREVIEW_BYTES) }),
  ];
  if (shownBytes > HEX_PREVIEW_BYTES) {
    parts.push(h('details', { class: 'hex-all' },
      h('summary', { text: d.truncated ? `Show the first ${fmt.bytes(shownBytes)}` : `Show all ${d.size} bytes` }),
      h('pre', { tabindex: '0', 'aria-label': 'All bytes in hexadecimal', text: fmt.spacedHex(hex) })));
  }
  return h('figure', { class: 'preview sign-preview blind' }, ...parts);
}

// ---------------------------------------------------------------- agent tools

/** Lines of a tool's text shown before "…and N more lines". */
const TOOL_LINES = 12;
const TOOL_CHARS = 4000;

/** `text` cut to its first `lines` lines (and TOOL_CHARS), with what was left out. */
function firstLines(text, lines = TOOL_LINES) {
  const all = String(text ?? '').split('\n');
  let shown = all.slice(0, lines).join('\n');
  if (shown.length > TOOL_CHARS) shown = `${shown.slice(0, TOOL_CHARS)}…`;
  const more = all.length - Math.min(all.length, lines);
  return { shown, more, total: all.length };
}

function codeBlock(text, label, lines = TOOL_LINES) {
  const { shown, more } = firstLines(text, lines);
  return h('div', { class: 'tool-code' },
    label ? h('span', { class: 'tool-code-label', text: label }) : null,
    h('pre', { tabindex: '0', 'aria-label': label || 'Tool input' }, h('code', { text: shown })),
    more > 0 ? h('small', { class: 'note', text: `…and ${more} more line${more === 1 ? '' : 's'}` }) : null);
}

const str = (v) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/**
 * A coding agent's tool call, readable: a Bash command as code, Write's
 * file and first lines, Edit's file with the old and new text, the path or
 * pattern of reads and searches; anything else as indented JSON. Used by
 * the approval card and by the session transcript (pages/sessions.js).
 */
export function toolInputView(toolName, input, previewText) {
  const i = input && typeof input === 'object' ? input : {};
  const path = i.file_path || i.notebook_path || i.path;
  const parts = [];
  switch (toolName) {
    case 'Bash':
      parts.push(codeBlock(str(i.command), 'Command'));
      if (i.description) parts.push(h('p', { class: 'note', text: i.description }));
      break;
    case 'Write': {
      const content = str(i.content);
      const lines = content ? content.replace(/\n$/, '').split('\n').length : 0;
      parts.push(facts([['File', h('code', { class: 'wrap', text: str(path) })],
        ['Size', `${lines} line${lines === 1 ? '' : 's'}, ${fmt.bytes(new TextEncoder().encode(content).length)}`]]));
      if (content) parts.push(codeBlock(content, 'Starts with', 8));
      break;
    }
    case 'Edit':
      parts.push(facts([['File', h('code', { class: 'wrap', text: str(path) })],
        ['Replaces', i.replace_all ? 'every occurrence' : 'one occurrence']]));
      parts.push(h('div', { class: 'tool-diff' },
        codeBlock(str(i.old_string), 'Old text'), codeBlock(str(i.new_string), 'New text')));
      break;
    case 'MultiEdit':
      parts.push(facts([['File', h('code', { class: 'wrap', text: str(path) })],
        ['Edits', String((i.edits || []).length)]]));
      for (const [n, e] of (Array.isArray(i.edits) ? i.edits : []).slice(0, 5).entries()) {
        parts.push(h('div', { class: 'tool-diff' },
          codeBlock(str(e?.old_string), `Edit ${n + 1}: old text`, 6), codeBlock(str(e?.new_string), `Edit ${n + 1}: new text`, 6)));
      }
      break;
    case 'Read': case 'NotebookEdit': case 'LS':
      parts.push(facts([['File', h('code', { class: 'wrap', text: str(path) })],
        ['Lines', i.offset || i.limit ? `${i.offset || 1}… (${i.limit || 'all'})` : undefined]]));
      break;
    case 'Glob': case 'Grep':
      parts.push(facts([['Pattern', h('code', { class: 'wrap', text: str(i.pattern) })],
        ['In', path ? h('code', { class: 'wrap', text: str(path) }) : undefined],
        ['Files', i.glob ? h('code', { class: 'wrap', text: str(i.glob) }) : undefined]]));
      break;
    case 'WebFetch':
      parts.push(facts([['Address', h('code', { class: 'wrap', text: str(i.url) })], ['Asks', i.prompt ? str(i.prompt) : undefined]]));
      break;
    case 'WebSearch':
      parts.push(facts([['Search', str(i.query)]]));
      break;
    default:
      if (previewText) parts.push(h('p', { class: 'tool-preview-text', text: previewText }));
      if (Object.keys(i).length) parts.push(codeBlock(JSON.stringify(i, null, 2), 'Input', 20));
  }
  return h('div', { class: 'tool-input', 'data-tool': toolName || '' }, parts);
}

/** An agent's questions with their options (read-only). */
export function questionsView(questions, previewText) {
  const list = Array.isArray(questions) ? questions : [];
  if (!list.length) return h('p', { class: 'tool-preview-text', text: previewText || 'A question without text.' });
  return h('div', { class: 'agent-questions' }, list.map((q) => h('div', { class: 'agent-question' },
    q.header ? h('span', { class: 'badge', text: q.header }) : null,
    h('p', { class: 'question-text', text: q.question || '' }),
    Array.isArray(q.options) && q.options.length
      ? h('ul', { class: 'question-options' }, q.options.map((o) => h('li', {},
        h('strong', { text: o.label || '' }), o.description ? h('span', { class: 'muted', text: ` — ${o.description}` }) : null)))
      : null,
    q.multiSelect ? h('small', { class: 'note', text: 'More than one may be picked.' }) : null)));
}

function sessionLink(d) {
  if (!d.session_id) return null;
  const href = d.instance_id
    ? `#/sessions/${encodeURIComponent(d.instance_id)}/${encodeURIComponent(d.session_id)}`
    : null;
  return href ? h('a', { class: 'session-link', href, text: 'Open the session' }) : null;
}

function preview(a) {
  const d = a.details || {};
  if (a.kind === 'sign') return signPreview(d);
  if (a.kind === 'auth') {
    if (d.challenge === undefined || d.challenge === null) {
      return h('p', { class: 'muted', text: 'It gets your identity’s public key. Nothing is signed.' });
    }
    return h('figure', { class: 'preview' }, h('figcaption', { text: 'It gets your public key and a signature of this challenge' }),
      h('pre', { class: 'sign-text', text: String(d.challenge) }));
  }
  if (a.kind === 'device_enrolment') {
    return h('figure', { class: 'preview' },
      h('figcaption', { text: 'Approve only if the agent printed this same fingerprint' }),
      h('pre', { class: 'sign-text fingerprint', text: d.fingerprint || '' }),
      h('p', { class: 'note', text: `Platform: ${d.platform || 'not given'} · device ${d.device_id || ''}` }));
  }
  if (a.kind === 'held_message') {
    // Metadata only: the hub never sees the content.
    return h('figure', { class: 'preview' },
      h('figcaption', { text: 'Deliver this message to the room? Its content is end-to-end encrypted; this is all the hub knows' }),
      facts([
        ['From', d.sender_name || d.sender_device_id || 'unknown agent'],
        ['Room', d.room_name || d.room_id || ''],
        ['Type', d.message_type || ''],
        ['Size', `${Number(d.size_bytes || 0).toLocaleString()} bytes`],
        ['Held by', d.policy_name || 'a policy'],
      ]));
  }
  if (a.kind === 'decision') {
    const parts = [h('figcaption', { text: 'Allow approves, Deny denies; defer it on the Decisions page' }),
      h('p', { class: 'decision-title', text: d.title || '' })];
    if (d.description) parts.push(h('p', { class: 'decision-description', text: d.description }));
    if (Array.isArray(d.options) && d.options.length) {
      parts.push(h('p', { class: 'note', text: `Options: ${d.options.join(' · ')}` }));
    }
    if (d.context && Object.keys(d.context).length) {
      parts.push(h('pre', { class: 'sign-text', text: JSON.stringify(d.context, null, 2) }));
    }
    return h('figure', { class: 'preview decision-preview' }, ...parts);
  }
  if (a.kind === 'a2a_channel') {
    return h('figure', { class: 'preview' },
      h('figcaption', { text: d.federated ? 'A channel with an agent on another hub' : 'A channel between your agents' }),
      h('p', {}, h('code', { text: d.creator || '' }), ' \u2192 ', h('code', { text: (d.peers || []).join(', ') })),
      h('p', { class: 'note', text: d.topic ? `Topic: ${d.topic}` : 'No topic given' }));
  }
  if (a.kind === 'tool_call') {
    return h('figure', { class: 'preview tool-preview' },
      h('figcaption', {}, 'It wants to use ', h('strong', { text: d.tool_name || 'a tool' })),
      toolInputView(d.tool_name, d.input, d.preview),
      sessionLink(d));
  }
  if (a.kind === 'agent_question') {
    return h('figure', { class: 'preview tool-preview' },
      h('figcaption', { text: 'It asks you' }),
      questionsView(d.questions, d.preview),
      h('p', { class: 'note' }, 'Pick an answer in the session; Deny skips the question. ', sessionLink(d)));
  }
  if (a.kind === 'link' && d.app_agent_pub_key) {
    return h('figure', { class: 'preview' },
      h('figcaption', { text: 'Your identity will vouch for this app key' }),
      h('pre', { class: 'sign-text', text: d.app_agent_pub_key }));
  }
  if (!Object.keys(d).length) return null;
  return h('figure', { class: 'preview' }, h('figcaption', { text: 'Details' }),
    h('pre', { class: 'sign-text', text: JSON.stringify(d, null, 2) }));
}

/** "until Tue 9 Dec, 14:05" for `seconds` from now. */
function until(seconds) {
  const at = new Date(Date.now() + seconds * 1000);
  const sameDay = at.toDateString() === new Date().toDateString();
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return sameDay ? time : `${at.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' })}, ${time}`;
}

function rememberRisk(seconds, kind) {
  if (!seconds) return 'It will ask again next time.';
  const act = kind === 'sign' ? 'sign anything' : 'do this';
  return `For ${PERIODS[seconds] || fmt.duration(seconds * 1000)}: this app can ${act} without asking until ${until(seconds)}. You can revoke this below under Remembered answers.`;
}

/** Keep a card's queued state and deadline in step with the daemon. */
export function updateCard(card, a) {
  card.classList.toggle('queued', a.state === 'queued');
  // Queued requests have no deadline yet: their time starts on screen.
  card.dataset.deadline = a.deadline_ms == null ? '' : String(a.deadline_ms);
}

/** A card for request `a`; onAnswered(card, decision) runs after the daemon took the answer. */
export function approvalCard(a, onAnswered) {
  const titleId = uid('a');
  const who = a.requester || {};
  names.set(a.id, who.app_name);
  const deny = h('button', { type: 'button', class: 'danger', 'data-action': 'deny', text: 'Deny' });
  const approve = h('button', { type: 'button', class: 'primary', 'data-action': 'approve', text: 'Allow', disabled: true });
  let remember = null;
  if (a.grant_allowed) {
    const id = uid();
    const riskId = uid('r');
    const risk = h('p', { id: riskId, class: 'remember-risk note', 'aria-live': 'polite', text: rememberRisk(0, a.kind) });
    const select = h('select', { id, name: 'remember', 'aria-describedby': riskId },
      REMEMBER.map(([s, label]) => h('option', { value: String(s), text: label })));
    select.addEventListener('change', () => {
      const s = Number(select.value);
      risk.textContent = rememberRisk(s, a.kind);
      risk.classList.toggle('risky', s >= 86400);
    });
    remember = h('div', { class: 'remember' },
      h('div', { class: 'field inline' }, h('label', { for: id, text: 'Next time' }), select), risk);
  }
  // For a link, the user picks which profile fields the app may read.
  let scopes = null;
  const d = a.details || {};
  if (a.kind === 'link' && Array.isArray(d.scopes_offered)) {
    const current = new Set(d.scopes || []);
    const shares = h('p', { class: 'shares note', 'aria-live': 'polite' });
    scopes = h('fieldset', { class: 'scopes' }, h('legend', { text: 'Profile fields it may read' }),
      d.scopes_offered.map((s) => checkbox(SCOPE_LABELS[s] || s, { value: s, name: 'scope', checked: current.has(s) }).wrap),
      shares);
    // Say in one line what allowing shares, as the boxes change.
    const say = () => {
      const chosen = [...scopes.querySelectorAll('input[name="scope"]:checked')]
        .map((i) => (SCOPE_LABELS[i.value] || i.value).replace(/^Your /, 'your '));
      shares.textContent = chosen.length
        ? `If you allow, it gets ${chosen.join(', ')}.`
        : 'If you allow, it gets none of your profile: only the link to your identity.';
    };
    scopes.addEventListener('change', say);
    say();
  }
  // A new app is registered under the name the user gives it here (its
  // claim is only the suggestion).
  const naming = a.kind === 'link' && who.unregistered
    ? field('Register it as', { name: 'app-name', value: who.claimed_name || who.app_name || '', maxlength: 100,
      autocomplete: 'off', spellcheck: false }, 'The name Holdfast will show for this app from now on.')
    : null;
  const left = h('span', { class: 'time-left' });
  const announce = h('span', { class: 'sr-only', 'aria-live': 'polite' });
  const bar = h('progress', { max: Math.max(1, a.timeout_ms || 1), value: 0, 'aria-hidden': 'true' });
  const actions = h('div', { class: 'actions' }, deny, approve);
  const claimed = who.claimed_name
    ? h('p', { class: 'claimed-name' }, 'calls itself ', h('q', { text: who.claimed_name }),
      h('span', { class: 'muted', text: ' (its own claim, not checked)' }))
    : null;
  // A coding-agent session Holdfast runs itself: what it is, not app identity checks.
  const agentKind = a.kind === 'tool_call' || a.kind === 'agent_question';
  const unverifiedName = !agentKind && who.name_source === 'unverified'
    ? h('p', { class: 'note', text: a.kind === 'link'
      ? 'Holdfast does not know this app. Allowing the link registers it under the name you give below.'
      : 'Holdfast does not know this app: nothing checks the name it gives.' })
    : null;
  const card = h('article', { class: 'approval card', 'data-id': a.id, 'data-kind': a.kind, 'aria-labelledby': titleId },
    h('h3', { id: titleId }, h('strong', { class: 'app-name', text: who.app_name || 'An app' }), ` ${VERBS[a.kind] || `asks for “${a.kind}”`}`),
    agentKind ? null : claimed,
    unverifiedName,
    h('p', { class: 'queued-note muted', text: 'Waiting behind another request from this app.' }),
    agentKind
      ? facts([
        ['Session', d.session_title || d.session_id || 'Unknown'],
        ['Agent', d.agent || undefined],
        ['Workspace', d.workspace ? h('code', { class: 'wrap', text: d.workspace }) : undefined],
      ])
      : facts([
        ['App id', appFacts(who)],
        ['Web page', who.origin ? h('code', { class: 'wrap', text: who.origin }) : undefined],
        ['Program', programFacts(who)],
        ['Reason it gives', a.reason || 'No reason given'],
      ]),
    preview(a),
    naming?.wrap,
    scopes,
    h('p', { class: 'deadline' }, bar, ' ', left, announce),
    remember,
    actions);
  card.dataset.timeout = String(a.timeout_ms || 0);
  updateCard(card, a);
  // Allow only after a second: no approving by a stray click or key.
  setTimeout(() => {
    if (!card.classList.contains('expired') && !card.classList.contains('answering')) approve.disabled = false;
  }, APPROVE_DELAY_MS);

  async function answer(body) {
    card.classList.add('answering');
    for (const b of card.querySelectorAll('button')) b.disabled = true;
    clearInlineError(actions);
    try {
      await api.post(`/approvals/${encodeURIComponent(a.id)}`, body);
      const text = outcomeText(body.decision === 'allow' ? 'allowed' : 'denied', a);
      onAnswered(card, body.decision, text);
    } catch (err) {
      card.classList.remove('answering');
      if (err.status === 404) {
        const outcome = outcomeOf(a.id);
        inlineError(actions, outcome ? outcomeText(outcome, a) : 'This request is no longer waiting: it was answered elsewhere, timed out or withdrawn.');
      } else {
        inlineError(actions, err);
        if (!card.classList.contains('expired')) for (const b of card.querySelectorAll('button')) b.disabled = false;
      }
      onAnswered(card, null);
    }
  }
  deny.addEventListener('click', () => answer({ decision: 'deny' }));
  approve.addEventListener('click', () => {
    const body = { decision: 'allow' };
    const seconds = Number(card.querySelector('select[name="remember"]')?.value || 0);
    if (seconds > 0) body.remember_s = seconds;
    if (scopes) body.scopes = [...scopes.querySelectorAll('input[name="scope"]:checked')].map((i) => i.value);
    if (naming && naming.input.value.trim()) body.app_name = naming.input.value.trim();
    answer(body);
  });
  return card;
}

/** Update a card's countdown; past the deadline it can no longer be answered. */
export function tickCard(card, now = Date.now()) {
  const bar = card.querySelector('progress');
  const text = card.querySelector('.time-left');
  const total = Number(card.dataset.timeout);
  if (card.dataset.deadline === '') {
    text.textContent = `${fmt.duration(total)} to answer once it is its turn`;
    bar.value = total;
    card.classList.remove('urgent');
    return;
  }
  const leftMs = Number(card.dataset.deadline) - now;
  if (leftMs <= 0) {
    text.textContent = 'Timed out: denied';
    bar.value = 0;
    if (!card.classList.contains('expired')) {
      card.classList.add('expired');
      card.classList.remove('urgent');
      for (const b of card.querySelectorAll('button')) b.disabled = true;
    }
    return;
  }
  text.textContent = `${fmt.duration(leftMs)} left`;
  bar.value = Math.min(total, leftMs);
  const urgent = leftMs <= URGENT_MS;
  card.classList.toggle('urgent', urgent);
  if (urgent && !card.dataset.announced) {
    // Said once, politely: a countdown read every second would drown the page.
    card.dataset.announced = '1';
    const announce = card.querySelector('.deadline [aria-live]');
    if (announce) announce.textContent = `${Math.ceil(leftMs / 1000)} seconds left to answer; unanswered requests are denied.`;
  }
}
