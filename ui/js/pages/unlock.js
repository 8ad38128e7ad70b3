// The desktop app's unlock window (#/unlock). First run: create a
// passphrase (with a strength meter and a confirmation), see the recovery
// phrase once and prove it was written down by typing two of its words,
// then choose a display name and username. Later: the passphrase, with
// "Remember on this device"; a wrong one shakes and waits as the daemon says.

import { api } from '../api.js';
import { h, field, empty } from '../dom.js';
import { unlockForm } from '../unlock-form.js';
import { showError, clearAlerts } from '../alerts.js';

/** A rough strength score (0-4) from length and variety; guidance, not a gate. */
export function strength(p) {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
  const words = p.trim().split(/\s+/).length;
  const bits = p.length * Math.log2(Math.max(10, classes * 20)) * (words > 2 ? 1.2 : 0.8);
  if (p.length < 8) return 0;
  return bits < 50 ? 1 : bits < 70 ? 2 : bits < 95 ? 3 : 4;
}
const STRENGTH = ['Too short', 'Weak', 'Fair', 'Good', 'Strong'];

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
    if (id.state === 'uninitialized') show(...createStep());
    else if (id.state === 'locked') show(...unlockStep(id));
    else show(h('p', { class: 'callout', text: 'Holdfast is unlocked. You can close this window.' }));
  }

  function unlockStep(id) {
    return [h('p', { text: 'Enter your passphrase to unlock your identity and vaults.' }),
      unlockForm(ctx, id, () => show(h('p', { class: 'callout', text: 'Unlocked. This window closes by itself.' })))];
  }

  function createStep() {
    const pass = field('Choose a passphrase', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, id: 'new-passphrase' },
      'A few unrelated words are easy to remember and hard to guess.');
    const meter = h('meter', { min: 0, max: 4, low: 2, high: 3, optimum: 4, value: 0, id: 'strength', 'aria-label': 'Passphrase strength' });
    const verdict = h('small', { class: 'hint', 'aria-live': 'polite', text: STRENGTH[0] });
    pass.input.addEventListener('input', () => {
      const s = strength(pass.input.value);
      meter.value = s;
      verdict.textContent = STRENGTH[s];
    });
    const again = field('Type it again', { type: 'password', autocomplete: 'new-password', required: true, id: 'new-passphrase-again' });
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Create my identity' });
    const form = h('form', { class: 'stack', id: 'create-form' },
      h('p', { text: 'Welcome. Your passphrase locks your identity and your vaults on this device.' }),
      pass.wrap, h('div', { class: 'strength' }, meter, verdict), again.wrap,
      h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (pass.input.value !== again.input.value) {
        showError('The two passphrases are not the same.');
        again.input.select();
        return;
      }
      if (strength(pass.input.value) < 2) {
        showError('Please choose a stronger passphrase: longer, or a few more words.');
        pass.input.select();
        return;
      }
      submit.disabled = true;
      try {
        const res = await api.post('/identity/init', { passphrase: pass.input.value });
        clearAlerts();
        show(...phraseStep(res.recovery_phrase.split(/\s+/)));
      } catch (err) {
        submit.disabled = false;
        showError(err);
      }
    });
    return [form];
  }

  function phraseStep(words) {
    const list = h('ol', { class: 'phrase', id: 'recovery-phrase' }, words.map((w) => h('li', { text: w })));
    const next = h('button', { type: 'button', class: 'primary', text: 'I wrote them down' });
    next.addEventListener('click', () => show(...confirmStep(words)));
    return [h('p', { class: 'callout', text: 'Your recovery phrase. Write these words down, in order, and keep them somewhere safe: they bring your identity back if you forget your passphrase or lose this device. They are shown only now.' }),
      list, h('div', { class: 'actions' }, next)];
  }

  function confirmStep(words) {
    const picks = [];
    while (picks.length < 2) {
      const i = Math.floor(Math.random() * words.length);
      if (!picks.includes(i)) picks.push(i);
    }
    picks.sort((a, b) => a - b);
    const inputs = picks.map((i) => field(`Word ${i + 1}`, { autocomplete: 'off', spellcheck: false, required: true, id: `word-${i + 1}` }));
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Check' });
    const back = h('button', { type: 'button', text: 'Show the words again' });
    back.addEventListener('click', () => show(...phraseStep(words)));
    const form = h('form', { class: 'stack', id: 'confirm-words' },
      h('p', { text: 'To be sure they are written down, type two of the words.' }),
      inputs.map((f) => f.wrap), h('div', { class: 'actions' }, back, submit));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const ok = picks.every((i, n) => inputs[n].input.value.trim().toLowerCase() === words[i]);
      if (!ok) {
        showError('That does not match. Check what you wrote down.');
        return;
      }
      clearAlerts();
      show(...profileStep());
    });
    return [form];
  }

  function profileStep() {
    const name = field('Display name', { autocomplete: 'name', maxlength: 100, id: 'display-name' }, 'How apps show you.');
    const user = field('Username', { autocomplete: 'username', maxlength: 64, id: 'username' });
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Finish' });
    const form = h('form', { class: 'stack', id: 'profile-form' },
      h('p', { text: 'Last step: how should apps see you? You can change this later.' }),
      name.wrap, user.wrap, h('div', { class: 'actions' }, submit));
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
        showError(err);
      }
    });
    return [form];
  }

  await start();
}
