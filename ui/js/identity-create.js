// Creating the identity, the same way wherever it happens (the desktop
// app's first-run window and Home): a passphrase with a strength meter and
// a confirmation, the recovery phrase shown once (with print, and a warning
// before leaving while it is on screen), then two of its words typed back.

import { api } from './api.js';
import { h, field } from './dom.js';
import { inlineError, clearInlineError } from './errors.js';

/** A rough strength score (0-4) from length and variety; guidance, not a gate. */
export function strength(p) {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
  const words = p.trim().split(/\s+/).length;
  const bits = p.length * Math.log2(Math.max(10, classes * 20)) * (words > 2 ? 1.2 : 0.8);
  if (p.length < 8) return 0;
  return bits < 50 ? 1 : bits < 70 ? 2 : bits < 95 ? 3 : 4;
}
const STRENGTH = ['Too short', 'Weak', 'Fair', 'Good', 'Strong'];

// While the phrase is on screen and not yet confirmed, leaving loses it.
let guarding = false;
function onBeforeUnload(e) {
  e.preventDefault();
  e.returnValue = '';
}
function guard(on) {
  if (on === guarding) return;
  guarding = on;
  if (on) window.addEventListener('beforeunload', onBeforeUnload);
  else window.removeEventListener('beforeunload', onBeforeUnload);
}

/**
 * Run the creation steps inside `box`. `ctx` is the page context (its
 * cleanup drops the leave-warning); `onCreated()` runs once the words were
 * confirmed. `intro` is the first step's opening sentence.
 */
export function createIdentity(ctx, box, { intro, onCreated }) {
  ctx.onCleanup(() => guard(false));
  const show = (...children) => {
    box.replaceChildren(...children);
    const first = box.querySelector('input, button');
    if (first) first.focus();
  };

  function passphraseStep() {
    const pass = field('Choose a passphrase', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, id: 'new-passphrase' },
      'At least 8 characters. A few unrelated words are easy to remember and hard to guess.');
    const meter = h('meter', { min: 0, max: 4, low: 2, high: 3, optimum: 4, value: 0, id: 'strength', 'aria-label': 'Passphrase strength' });
    const verdict = h('small', { class: 'hint', 'aria-live': 'polite', text: STRENGTH[0] });
    pass.input.addEventListener('input', () => {
      const s = strength(pass.input.value);
      meter.value = s;
      verdict.textContent = STRENGTH[s];
    });
    const again = field('Type it again', { type: 'password', autocomplete: 'new-password', required: true, id: 'new-passphrase-again' });
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Create my identity' });
    const actions = h('div', { class: 'actions' }, submit);
    const form = h('form', { class: 'stack', id: 'create-form' },
      h('p', { text: intro }),
      pass.wrap, h('div', { class: 'strength' }, meter, verdict), again.wrap, actions);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearInlineError(again.wrap);
      clearInlineError(pass.wrap);
      if (pass.input.value !== again.input.value) {
        inlineError(again.wrap, 'The two passphrases are not the same.');
        again.input.select();
        return;
      }
      if (strength(pass.input.value) < 2) {
        inlineError(pass.wrap, 'Please choose a stronger passphrase: longer, or a few more words.');
        pass.input.select();
        return;
      }
      submit.disabled = true;
      try {
        const res = await api.post('/identity/init', { passphrase: pass.input.value });
        if (!ctx.alive()) return;
        show(...phraseStep(res.recovery_phrase.split(/\s+/)));
      } catch (err) {
        submit.disabled = false;
        inlineError(actions, err);
      }
    });
    return [form];
  }

  function phraseStep(words) {
    guard(true);
    const list = h('ol', { class: 'phrase', id: 'recovery-phrase', 'aria-label': 'Recovery phrase' },
      words.map((w) => h('li', { text: w })));
    const next = h('button', { type: 'button', class: 'primary', text: 'I wrote them down' });
    next.addEventListener('click', () => show(...confirmStep(words)));
    const print = h('button', { type: 'button', text: 'Print' });
    print.addEventListener('click', () => {
      document.body.classList.add('printing-phrase');
      window.print();
      document.body.classList.remove('printing-phrase');
    });
    return [h('p', { class: 'callout', text: 'Your recovery phrase. Write these words down, in order, and keep them somewhere safe: they bring your identity back if you forget your passphrase or lose this device. They are shown only now.' }),
      list, h('div', { class: 'actions' }, print, next)];
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
    const actions = h('div', { class: 'actions' }, back, submit);
    const form = h('form', { class: 'stack', id: 'confirm-words' },
      h('p', { text: 'To be sure they are written down, type two of the words.' }),
      inputs.map((f) => f.wrap), actions);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const ok = picks.every((i, n) => inputs[n].input.value.trim().toLowerCase() === words[i]);
      if (!ok) {
        inlineError(actions, 'That does not match. Check what you wrote down.');
        return;
      }
      guard(false);
      onCreated();
    });
    return [form];
  }

  show(...passphraseStep());
}
