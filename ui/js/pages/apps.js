// Apps & links: the apps you registered (add, remove) and the live links
// between apps and your identity (unlink).

import { api } from '../api.js';
import { h, field, checkbox, section, pageTitle, empty, busy, confirmDialog } from '../dom.js';
import { notify } from '../alerts.js';
import { inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';

const SCOPES = [
  ['display_name', 'Your display name'],
  ['username', 'Your username'],
  ['profile_picture', 'Your profile picture'],
];

export async function render(ctx) {
  pageTitle(ctx.view, 'Apps & links');
  const appList = h('ul', { class: 'rows' });
  const noApps = empty('No apps registered yet. Apps also register when you approve their first link.');
  const linkList = h('ul', { class: 'rows' });
  const noLinks = empty('No app is linked to your identity.');

  ctx.view.append(
    section('Linked apps',
      h('p', { class: 'muted', text: 'These apps can ask you to sign in and sign things. Unlinking stops them at once.' }),
      linkList, noLinks),
    section('Registered apps', appList, noApps),
    section('Register an app', registerForm()));

  async function load() {
    const [apps, links] = await Promise.all([api.get('/apps'), api.get('/links')]);
    if (!ctx.alive()) return;
    appList.replaceChildren(...apps.map(appItem));
    noApps.hidden = apps.length > 0;
    linkList.replaceChildren(...links.map(linkItem));
    noLinks.hidden = links.length > 0;
  }

  function appItem(app) {
    const remove = h('button', { type: 'button', class: 'danger', 'data-action': 'remove', text: 'Remove' });
    remove.addEventListener('click', async () => {
      const ok = await confirmDialog(`Remove ${app.name}? Its links and remembered answers go too; its backups stay.`, 'Remove');
      if (!ok) return;
      await busy(remove, async () => {
        try {
          await api.del(`/apps/${encodeURIComponent(app.client_id)}`);
          notify(`${app.name} removed.`);
          await load();
        } catch (err) {
          inlineError(remove.parentElement, err);
        }
      });
    });
    const scopes = app.scopes.length
      ? `May read: ${app.scopes.map((s) => (SCOPES.find(([k]) => k === s) || [s, s])[1].toLowerCase()).join(', ')}`
      : 'Reads nothing from your profile';
    return h('li', { class: 'row app', 'data-client-id': app.client_id },
      h('div', { class: 'row-main' },
        h('strong', { text: app.name }),
        app.token_bound
          ? h('span', { class: 'badge ok', text: 'Proves itself with its token' })
          : h('span', { class: 'badge warn', text: 'Identified by client ID only' }),
        h('div', { class: 'muted' }, h('code', { text: app.client_id }), ` · added ${fmt.when(app.created_ms)}`),
        h('div', { class: 'muted', text: scopes }),
        app.allowed_origins.length
          ? h('div', { class: 'muted', text: `Web pages: ${app.allowed_origins.join(', ')}` }) : null),
      h('div', { class: 'row-actions' }, remove));
  }

  function linkItem(link) {
    const unlink = h('button', { type: 'button', class: 'danger', 'data-action': 'unlink', text: 'Unlink' });
    unlink.addEventListener('click', async () => {
      const ok = await confirmDialog(`Unlink ${link.app_name}? It will have to ask again to use your identity.`, 'Unlink');
      if (!ok) return;
      await busy(unlink, async () => {
        try {
          await api.del(`/links/${encodeURIComponent(link.id)}`);
          notify(`${link.app_name} unlinked.`);
          await load();
        } catch (err) {
          inlineError(unlink.parentElement, err);
        }
      });
    });
    return h('li', { class: 'row link', 'data-id': link.id },
      h('div', { class: 'row-main' },
        h('strong', { text: link.app_name }),
        h('div', { class: 'muted', text: `Linked ${fmt.when(link.created_ms)}` }),
        link.exe ? h('div', { class: 'muted' }, 'Program: ', h('code', { class: 'wrap', text: link.exe })) : null),
      h('div', { class: 'row-actions' }, unlink));
  }

  function registerForm() {
    const name = field('Name', { required: true, autocomplete: 'off' }, 'How the app is shown to you.');
    const id = field('Client ID', { required: true, autocomplete: 'off', spellcheck: false },
      'The identifier the app sends, e.g. my_app.');
    const origins = field('Web pages allowed to call it (one per line)', {
      tag: 'textarea', rows: 2, placeholder: 'https://app.example', spellcheck: false,
    });
    const scopeBoxes = SCOPES.map(([value, label]) => checkbox(label, { value }));
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Register' });
    const form = h('form', { id: 'new-app-form', class: 'stack' },
      name.wrap, id.wrap,
      h('fieldset', {}, h('legend', { text: 'It may read' }), scopeBoxes.map((c) => c.wrap)),
      origins.wrap,
      h('div', { class: 'actions' }, submit));
    const actions = form.lastElementChild;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        try {
          await api.post('/apps', {
            client_id: id.input.value.trim(),
            name: name.input.value.trim(),
            scopes: scopeBoxes.filter((c) => c.input.checked).map((c) => c.input.value),
            allowed_origins: origins.input.value.split(/\s+/).filter(Boolean),
          });
          notify(`${name.input.value.trim()} registered.`);
          form.reset();
          clearInlineError(actions);
          await load();
        } catch (err) {
          inlineError(actions, err);
        }
      });
    });
    return form;
  }

  ctx.subscribe(['audit'], (e) => {
    if (/^(app_|link)/.test(e.audit_type || '')) load().catch(() => {});
  });
  await load();
}
