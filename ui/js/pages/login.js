// Login page: the web UI password (set once with `holdfast set-password`).

import { api } from '../api.js';
import { h, field, busy } from '../dom.js';
import { inlineError, clearInlineError } from '../errors.js';

export async function render(ctx) {
  document.title = 'Log in · Holdfast';
  const { wrap, input } = field('Password', {
    id: 'password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Log in' });
  const note = h('p', { class: 'muted', text: 'Enter the password you set for this Holdfast.' });
  const form = h('form', { id: 'login-form', class: 'stack' }, wrap, submit);

  const titleId = 'login-title';
  ctx.view.append(h('section', { class: 'login card', 'aria-labelledby': titleId },
    h('img', { src: '/icon.svg', alt: '', class: 'login-logo', width: 56, height: 56 }),
    h('h1', { id: titleId, text: 'Welcome back' }),
    note, form));
  document.title = 'Log in · Holdfast';
  input.focus();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    await busy(submit, async () => {
      try {
        const res = await api.post('/auth/login', { password: input.value }, { anonymous: true });
        clearInlineError(submit);
        ctx.arg.onLogin(res.token);
      } catch (err) {
        inlineError(submit, err.status === 401 ? 'That password is not right. Try again.' : err);
        input.select();
      }
    });
  });

  try {
    const status = await api.get('/system/status', null, { anonymous: true });
    if (!status.password_set && ctx.alive()) {
      note.replaceChildren(
        'No password is set yet. In a terminal on this computer, run ',
        h('code', { text: 'holdfast set-password' }),
        ', then log in here.');
      note.className = 'callout';
    }
  } catch (err) {
    if (err.status !== 0) inlineError(note, err);
  }
}
