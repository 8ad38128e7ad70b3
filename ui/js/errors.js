// Errors in words a person understands, shown next to what caused them.
// Pages call inlineError(anchor, err) beside the form or button that
// failed and clearInlineError(anchor) when it succeeds; the global alert
// region is for what has no place on the page.

import { h } from './dom.js';

/** What an ApiError (or Error, or string) means for the person reading. */
export function explain(err) {
  if (typeof err === 'string') return err;
  if (!err) return 'Something went wrong.';
  const status = err.status;
  const body = err.body || {};
  const raw = err.message || '';
  if (status === 0) return 'Holdfast is not answering. Check that it is running, then try again.';
  if (status === -1) return raw || 'Cancelled.';
  if (status === 507 || body.hard_quota !== undefined) {
    return 'There is not enough room in this vault for that. Free some space or raise its limit in the vault settings.';
  }
  if (status === 413) return 'That is too large to send in one go.';
  if (status === 429) return 'Too many attempts. Wait a moment, then try again.';
  if (status === 403 && /locked/i.test(raw)) {
    return 'Holdfast is locked. Unlock it on Home, then try again.';
  }
  if (status === 403 && /read.?only/i.test(raw)) return 'This vault is read-only.';
  if (status === 403 && /password|passphrase/i.test(raw)) return 'That password is not right.';
  if (status === 404) return raw && raw !== 'not found' ? `Not found: ${raw}.` : 'That is no longer here. It may have been deleted.';
  if (status === 409) return raw ? `${capitalise(raw)}.` : 'Something changed meanwhile. Reload and try again.';
  if (status >= 500) return 'Holdfast hit a problem on its side. Try again; if it keeps happening, use Report a problem in Settings.';
  return raw ? `${capitalise(raw)}.`.replace(/\.\.$/, '.') : 'Something went wrong.';
}

function capitalise(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const slot = new WeakMap();

/**
 * Show `err` explained right after `anchor` (a form, field wrap or button);
 * a second error replaces the first. Announced to screen readers. Returns
 * the message element.
 */
export function inlineError(anchor, err) {
  let el = slot.get(anchor);
  if (!el || !el.isConnected) {
    el = h('p', { class: 'inline-error', role: 'alert' });
    anchor.after(el);
    slot.set(anchor, el);
  }
  el.textContent = explain(err);
  return el;
}

/** Remove the error shown for `anchor`, if any. */
export function clearInlineError(anchor) {
  const el = slot.get(anchor);
  if (el) el.remove();
  slot.delete(anchor);
}
