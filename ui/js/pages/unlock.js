// The desktop app's unlock window (#/unlock). First run: create the
// identity (identity-create.js: passphrase, recovery phrase, two words
// typed back), then choose a display name and username. Later: the passphrase, with
// "Remember on this device"; a wrong one shakes and waits as the daemon says.

import { api } from '../api.js';
import { h, field, empty } from '../dom.js';
import { unlockForm } from '../unlock-form.js';
import { inlineError } from '../errors.js';
import { createIdentity } from '../identity-create.js';

export async function render(ctx) {
  document.title = 'Unlock Holdfast';
  const box = h('div', { class: 'unlock' });
  ctx.view.append(h('div', { class: 'unlock-head' },
    h('img', { src: '/icon.svg', alt: '', width: 56, height: 56 }), h('h1', { text: 'Holdfast' })), box);

  const show = (...children) => {
    box.replaceChildren(...children);
    const first = box.querySelector('input, button');
    if (first) first.focus();
  };

  async function start() {
    const id = await api.get('/identity');
    if (!ctx.alive()) return;
    if (id.state === 'uninitialized') {
      createIdentity(ctx, box, {
        intro: 'Welcome. Your passphrase locks your identity and your vaults on this device.',
        onCreated: () => show(...profileStep()),
      });
    } else if (id.state === 'locked') show(...unlockStep(id));
    else show(h('p', { class: 'callout', text: 'Holdfast is unlocked. You can close this window.' }));
  }

  function unlockStep(id) {
    return [h('p', { text: 'Enter your passphrase to unlock your identity and vaults.' }),
      unlockForm(ctx, id, () => show(h('p', { class: 'callout', text: 'Unlocked. This window closes by itself.' })))];
  }

  function profileStep() {
    const name = field('Display name', { autocomplete: 'name', maxlength: 100, id: 'display-name' }, 'How apps show you.');
    const user = field('Username', { autocomplete: 'username', maxlength: 64, id: 'username' });
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Finish' });
    const actions = h('div', { class: 'actions' }, submit);
    const form = h('form', { class: 'stack', id: 'profile-form' },
      h('p', { text: 'Last step: how should apps see you? You can change this later.' }),
      name.wrap, user.wrap, actions);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      submit.disabled = true;
      try {
        const body = {};
        if (name.input.value.trim()) body.display_name = name.input.value.trim();
        if (user.input.value.trim()) body.username = user.input.value.trim();
        if (Object.keys(body).length) await api.put('/identity/profile', body);
        show(empty('All set. Holdfast is unlocked and waits in the tray. You can close this window.'));
      } catch (err) {
        submit.disabled = false;
        inlineError(actions, err);
      }
    });
    return [form];
  }

  await start();
}
