// The global message region (#alerts): errors stay 15 s (or until
// dismissed), notices 5 s. Messages are plain text, never HTML.

import { h } from './dom.js';

const MAX = 4;

function region() {
  return document.getElementById('alerts');
}

function add(kind, message, { timeout, action } = {}) {
  const box = region();
  if (!box) return;
  const dismiss = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss', text: '×' });
  const item = h('div', { class: ['alert', kind] }, h('p', { text: message }));
  if (action) {
    item.append(h('button', { type: 'button', class: 'link-button', text: action.label,
      on: { click: () => { item.remove(); action.run(); } } }));
  }
  item.append(dismiss);
  dismiss.addEventListener('click', () => item.remove());
  box.append(item);
  while (box.children.length > MAX) box.firstElementChild.remove();
  if (timeout) setTimeout(() => item.remove(), timeout);
  return item;
}

/** Show an error: an ApiError, an Error or a string. */
export function showError(err) {
  const message = typeof err === 'string' ? err : err && err.message ? err.message : 'Something went wrong.';
  console.warn(err);
  return add('error', message, { timeout: 15_000 });
}

/** Show a short success/info notice; `action` = {label, run} adds a button. */
export function notify(message, action) {
  return add('notice', message, { timeout: action ? 10_000 : 5_000, action });
}

/** Clear every message (e.g. on logout). */
export function clearAlerts() {
  region()?.replaceChildren();
}
