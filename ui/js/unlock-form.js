// The unlock form: passphrase and "Remember on this device". A wrong
// passphrase shakes the form; when the daemon says to wait (429 with
// retry_after_ms), the button counts down. Used by Home and by the desktop
// app's unlock window.

import { api } from './api.js';
import { h, field, checkbox } from './dom.js';
import { showError } from './alerts.js';
import { inlineError, clearInlineError } from './errors.js';

/** onUnlocked(response) runs once the daemon accepted the passphrase. */
export function unlockForm(ctx, id, onUnlocked) {
  const pass = field('Passphrase', { type: 'password', autocomplete: 'current-password', required: true, id: 'unlock-passphrase' });
  const remember = checkbox('Remember on this device', { checked: !!id.remembered, disabled: !id.keyring, id: 'unlock-remember' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Unlock' });
  const form = h('form', { class: 'stack', id: 'unlock-form' },
    pass.wrap, remember.wrap,
    id.keyring ? null : h('small', { class: 'hint', text: 'This device has no keyring to remember it in.' }),
    h('div', { class: 'actions' }, submit));
  const actions = form.lastElementChild;
  let waitUntil = 0;
  const hold = (ms) => {
    waitUntil = Date.now() + ms;
    const step = () => {
      const left = waitUntil - Date.now();
      if (left <= 0 || !ctx.alive()) {
        submit.disabled = false;
        submit.textContent = 'Unlock';
        return;
      }
      submit.disabled = true;
      submit.textContent = `Try again in ${Math.ceil(left / 1000)} s`;
      setTimeout(step, 250);
    };
    step();
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (Date.now() < waitUntil) return;
    submit.disabled = true;
    try {
      const res = await api.post('/identity/unlock',
        { passphrase: pass.input.value, remember: remember.input.checked });
      clearInlineError(actions);
      if (res.keyring_error) showError(`Unlocked, but it could not be remembered: ${res.keyring_error}`);
      onUnlocked(res);
    } catch (err) {
      submit.disabled = false;
      form.classList.remove('shake');
      void form.offsetWidth; // restart the animation
      form.classList.add('shake');
      if (err.status === 403) inlineError(actions, 'That passphrase is not right.');
      else if (err.status === 429) inlineError(actions, 'Too many tries. Wait a moment, then try again.');
      else inlineError(actions, err);
      if (err.body?.retry_after_ms) hold(err.body.retry_after_ms);
      pass.input.select();
    }
  });
  return form;
}
