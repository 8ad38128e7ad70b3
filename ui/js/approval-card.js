// One approval request as a card: who asks (app, program, reason), a
// readable preview of what it wants, the time left of its deadline, and
// Deny (the default) / Approve (enabled after a second), with "Remember
// for …" where the daemon offers a grant. Used by the Approvals page and
// by the desktop app's popup window.

import { api } from './api.js';
import { h, facts, uid, checkbox } from './dom.js';
import { showError, notify } from './alerts.js';
import * as fmt from './format.js';

const VERBS = {
  link: 'wants to link to your identity',
  auth: 'wants to sign you in',
  sign: 'wants you to sign something',
};

const REMEMBER = [
  [0, 'Ask every time'],
  [300, 'Remember for 5 minutes'],
  [3600, 'Remember for 1 hour'],
  [86400, 'Remember for 1 day'],
  [7 * 86400, 'Remember for 1 week'],
  [30 * 86400, 'Remember for 30 days'],
];

const APPROVE_DELAY_MS = 1000;

const SCOPE_LABELS = {
  display_name: 'Your display name',
  username: 'Your username',
  profile_picture: 'Your profile picture',
};

function appLine(who) {
  const notes = [];
  if (who.unregistered) notes.push('not registered yet: approving registers it');
  if (!who.verified) notes.push('identified only by what it claims: any program could send this name');
  if (who.pid) notes.push(`process ${who.pid}`);
  return [who.app_name || '—', who.client_id ? h('span', { class: 'muted', text: ` (${who.client_id})` }) : null,
    notes.length ? h('small', { class: 'note', text: notes.join(' · ') }) : null];
}

function preview(a) {
  const d = a.details || {};
  if (a.kind === 'sign') {
    const isText = d.text !== null && d.text !== undefined && fmt.printable(d.text);
    const label = isText ? 'Text to sign' : 'Data to sign (hexadecimal)';
    const size = `${fmt.bytes(d.size)}${d.truncated ? ', only the start is shown' : ''}`;
    return h('figure', { class: 'preview' },
      h('figcaption', {}, label, h('span', { class: 'muted', text: ` · ${size}` })),
      h('pre', { text: isText ? d.text : fmt.spacedHex(d.hex) }));
  }
  if (a.kind === 'auth' && d.challenge !== undefined) {
    return h('figure', { class: 'preview' }, h('figcaption', { text: 'Sign-in challenge' }),
      h('pre', { text: String(d.challenge) }));
  }
  if (a.kind === 'link' && d.app_agent_pub_key) {
    return h('figure', { class: 'preview' }, h('figcaption', { text: 'The app’s key' }),
      h('pre', { text: d.app_agent_pub_key }));
  }
  if (!Object.keys(d).length) return null;
  return h('figure', { class: 'preview' }, h('figcaption', { text: 'Details' }),
    h('pre', { text: JSON.stringify(d, null, 2) }));
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
  const deny = h('button', { type: 'button', class: 'danger', 'data-action': 'deny', text: 'Deny' });
  const approve = h('button', { type: 'button', class: 'primary', 'data-action': 'approve', text: 'Approve', disabled: true });
  let remember = null;
  if (a.grant_allowed) {
    const id = uid();
    remember = h('div', { class: 'field inline' }, h('label', { for: id, text: 'Next time' }),
      h('select', { id, name: 'remember' },
        REMEMBER.map(([s, label]) => h('option', { value: String(s), text: label }))));
  }
  // For a link, the user picks which profile fields the app may read.
  let scopes = null;
  const d = a.details || {};
  if (a.kind === 'link' && Array.isArray(d.scopes_offered)) {
    const current = new Set(d.scopes || []);
    scopes = h('fieldset', { class: 'scopes' }, h('legend', { text: 'It may read' }),
      d.scopes_offered.map((s) => checkbox(SCOPE_LABELS[s] || s, { value: s, name: 'scope', checked: current.has(s) }).wrap));
  }
  const left = h('span', { class: 'time-left' });
  const bar = h('progress', { max: Math.max(1, a.timeout_ms || 1), value: 0, 'aria-hidden': 'true' });
  const who = a.requester || {};
  const card = h('article', { class: 'approval card', 'data-id': a.id, 'aria-labelledby': titleId },
    h('h3', { id: titleId }, h('strong', { text: who.app_name || 'An app' }), ` ${VERBS[a.kind] || `asks for “${a.kind}”`}`),
    h('p', { class: 'queued-note muted', text: 'Waiting behind another request from this app.' }),
    facts([
      ['App', appLine(who)],
      ['Program', who.exe ? h('code', { class: 'wrap', text: who.exe }) : 'Unknown'],
      ['Web page', who.origin ? h('code', { class: 'wrap', text: who.origin }) : undefined],
      ['Reason', a.reason || 'No reason given'],
    ]),
    preview(a),
    scopes,
    h('p', { class: 'deadline' }, bar, ' ', left),
    remember,
    h('div', { class: 'actions' }, deny, approve));
  card.dataset.timeout = String(a.timeout_ms || 0);
  updateCard(card, a);
  // Approve only after a second: no approving by a stray click or key.
  setTimeout(() => {
    if (!card.classList.contains('expired')) approve.disabled = false;
  }, APPROVE_DELAY_MS);

  async function answer(body) {
    for (const b of card.querySelectorAll('button')) b.disabled = true;
    try {
      await api.post(`/approvals/${encodeURIComponent(a.id)}`, body);
      notify(body.decision === 'allow' ? `Approved for ${who.app_name || 'the app'}.` : 'Denied.');
      onAnswered(card, body.decision);
    } catch (err) {
      showError(err);
      onAnswered(card, null);
    }
  }
  deny.addEventListener('click', () => answer({ decision: 'deny' }));
  approve.addEventListener('click', () => {
    const body = { decision: 'allow' };
    const seconds = Number(card.querySelector('select[name="remember"]')?.value || 0);
    if (seconds > 0) body.remember_s = seconds;
    if (scopes) body.scopes = [...scopes.querySelectorAll('input[name="scope"]:checked')].map((i) => i.value);
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
    return;
  }
  const leftMs = Number(card.dataset.deadline) - now;
  if (leftMs <= 0) {
    text.textContent = 'Timed out';
    bar.value = 0;
    if (!card.classList.contains('expired')) {
      card.classList.add('expired');
      for (const b of card.querySelectorAll('button')) b.disabled = true;
    }
  } else {
    text.textContent = `${fmt.duration(leftMs)} left`;
    bar.value = Math.min(total, leftMs);
  }
}
