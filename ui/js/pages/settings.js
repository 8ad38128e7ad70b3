// Settings: profile apps may read, passphrase change, recovery, lock now,
// log out, media lookups (API keys), report a problem. The theme follows the system (light or dark).

import { api, endSession } from '../api.js';
import { h, field, section, pageTitle, busy } from '../dom.js';
import { notify } from '../alerts.js';
import { inlineError, clearInlineError } from '../errors.js';
import { reportSection } from '../report-problem.js';
import { enrichmentSection } from '../enrichment-settings.js';

export async function render(ctx) {
  pageTitle(ctx.view, 'Settings');
  const identity = await api.get('/identity');
  if (!ctx.alive()) return;

  // ---- Session ----
  const lock = h('button', { type: 'button', 'data-action': 'lock', text: 'Lock now' });
  const logout = h('button', { type: 'button', 'data-action': 'logout', class: 'danger', text: 'Log out' });
  lock.disabled = identity.state !== 'unlocked';
  const sessionActions = h('div', { class: 'actions' }, lock, logout);
  lock.addEventListener('click', () => busy(lock, async () => {
    try {
      await api.post('/identity/lock');
      clearInlineError(sessionActions);
      notify('Locked. Unlock from Home when you need it.');
      return true;
    } catch (err) {
      inlineError(sessionActions, err);
      return false;
    }
  }).then((locked) => { if (locked) lock.disabled = true; }));
  logout.addEventListener('click', () => busy(logout, async () => {
    await endSession();
    notify('Logged out.');
  }));
  ctx.view.append(section('This session',
    h('p', { class: 'muted', text: 'Locking puts your identity away: apps wait and vaults close until you unlock. Logging out ends this browser’s session.' }),
    sessionActions));

  // ---- Profile ----
  if (identity.state !== 'uninitialized') ctx.view.append(section('Your profile', profileForm(identity.profile || {})));

  // ---- Passphrase ----
  if (identity.state !== 'uninitialized') ctx.view.append(section('Change passphrase', passphraseForm()));
  ctx.view.append(section('Forgot your passphrase?', recoverForm()));
  ctx.view.append(enrichmentSection());
  ctx.view.append(reportSection(ctx));
  ctx.view.append(section('Appearance',
    h('p', { class: 'muted', text: 'Holdfast follows your system’s light or dark setting.' })));
}

function profileForm(profile) {
  const name = field('Display name', { value: profile.display_name || '', autocomplete: 'name' });
  const user = field('Username', { value: profile.username || '', autocomplete: 'username', spellcheck: false });
  const save = h('button', { type: 'submit', class: 'primary', text: 'Save profile' });
  const actions = h('div', { class: 'actions' }, save);
  const form = h('form', { class: 'stack' },
    h('p', { class: 'muted', text: 'Apps see these only if you let them (on Apps & links).' }),
    name.wrap, user.wrap, actions);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(save, async () => {
      try {
        await api.put('/identity/profile', {
          display_name: name.input.value.trim() || null,
          username: user.input.value.trim() || null,
          profile_picture: profile.profile_picture ?? null,
        });
        clearInlineError(actions);
        notify('Profile saved.');
      } catch (err) {
        inlineError(actions, err);
      }
    });
  });
  return form;
}

function passphraseForm() {
  const old = field('Current passphrase', { type: 'password', autocomplete: 'current-password', required: true });
  const next = field('New passphrase', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8 },
    'At least 8 characters.');
  const again = field('New passphrase again', { type: 'password', autocomplete: 'new-password', required: true });
  const save = h('button', { type: 'submit', class: 'primary', text: 'Change passphrase' });
  const actions = h('div', { class: 'actions' }, save);
  const form = h('form', { id: 'passphrase-form', class: 'stack' }, old.wrap, next.wrap, again.wrap, actions);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearInlineError(again.wrap);
    if (next.input.value !== again.input.value) {
      inlineError(again.wrap, 'The new passphrases are not the same.');
      again.input.focus();
      return;
    }
    busy(save, async () => {
      try {
        await api.post('/identity/passphrase',
          { old_passphrase: old.input.value, new_passphrase: next.input.value });
        form.reset();
        clearInlineError(actions);
        notify('Passphrase changed. Use the new one from now on.');
      } catch (err) {
        inlineError(actions, err.status === 403 ? 'The current passphrase is not right.' : err);
      }
    });
  });
  return form;
}

function recoverForm() {
  const phrase = field('Recovery phrase (24 words)', { tag: 'textarea', rows: 3, required: true, spellcheck: false, autocomplete: 'off' });
  const next = field('New passphrase', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const save = h('button', { type: 'submit', text: 'Restore my identity' });
  const form = h('form', { class: 'stack' },
    h('p', { class: 'muted', text: 'Type the 24 words you wrote down when you created your identity, and choose a new passphrase.' }),
    phrase.wrap, next.wrap, h('div', { class: 'actions' }, save));
  const actions = form.lastElementChild;
  const details = h('details', {}, h('summary', { text: 'Restore from your recovery phrase' }), form);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(save, async () => {
      try {
        await api.post('/identity/recover', {
          recovery_phrase: phrase.input.value.trim().split(/\s+/).join(' '),
          new_passphrase: next.input.value,
        });
        form.reset();
        details.open = false;
        clearInlineError(actions);
        notify('Identity restored. It is unlocked with your new passphrase.');
      } catch (err) {
        inlineError(actions, err.status === 403 ? 'That recovery phrase does not match this identity.' : err);
      }
    });
  });
  return details;
}
