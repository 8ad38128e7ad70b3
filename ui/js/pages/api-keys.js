// API keys: credentials for agents that connect with an SDK instead of
// enrolling with an invite. Each key stands for a device of its own. A new
// or rotated key is shown once (Holdfast keeps only its hash); revoking
// stops it at once; deleting removes its device too.

import { hubApi } from '../api.js';
import { h, fill, field, section, pageTitle, busy, empty, confirmDialog, uid } from '../dom.js';
import { notify } from '../alerts.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';
import { copyField } from './s3.js';
import { hubTabs } from '../hub-tabs.js';

const STATUS = { active: ['Active', 'ok'], revoked: ['Revoked', 'muted'] };

const keyName = (k) => k.name || 'Unnamed key';
const at = (iso) => (iso ? fmt.when(Date.parse(iso)) : 'Never');

export async function render(ctx) {
  pageTitle(ctx.view, 'API keys');
  ctx.view.append(hubTabs('api-keys'));

  let keys;
  try {
    keys = await hubApi.get('/api-keys');
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    ctx.view.append(h('div', { class: 'load-error callout', role: 'alert' },
      h('p', { text: `Your API keys could not load: ${explain(err)}` }),
      h('button', {
        type: 'button', text: 'Try again',
        on: { click: () => window.dispatchEvent(new HashChangeEvent('hashchange')) },
      })));
    return;
  }
  if (!ctx.alive()) return;

  const createCard = section('Create a key');
  createCard.id = 'keys-create';
  const shown = h('div', { id: 'keys-shown', class: 'new-invite', hidden: true });
  createCard.append(
    h('p', { class: 'muted', text: 'A key lets an agent built with an SDK use your hub as one of your agents, without an invite or an approval. Anyone holding it acts as that agent: give it only to the program that needs it.' }),
    createForm(), shown);

  const listCard = section('Keys');
  listCard.id = 'keys-list';
  const list = h('div', { class: 'agent-list' });
  listCard.append(list);
  ctx.view.append(createCard, listCard);
  draw();

  async function reload() {
    const next = await hubApi.get('/api-keys');
    if (!ctx.alive()) return;
    keys = next;
    draw();
  }

  function draw() {
    if (!keys.length) {
      fill(list, empty('No API keys yet. Create one above for each program that needs one.'));
      return;
    }
    fill(list, [...keys].reverse().map(item));
  }

  function createForm() {
    const name = field('Name', { id: 'keys-name', autocomplete: 'off', maxLength: 100, required: true, placeholder: 'e.g. support bot' },
      'Shown in your agent list.');
    const identity = field('Identity public key (optional)', {
      id: 'keys-identity', autocomplete: 'off', spellcheck: false, maxLength: 64, pattern: '[0-9a-fA-F]{64}',
      placeholder: '64 hex characters',
    }, 'The agent’s Ed25519 public key, if it will send end-to-end encrypted messages.');
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Create key' });
    const actions = h('div', { class: 'actions' }, submit);
    const form = h('form', { id: 'keys-form', class: 'stack' }, name.wrap, identity.wrap, actions);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        try {
          const body = { name: name.input.value.trim() };
          if (identity.input.value.trim()) body.identity_public_key = identity.input.value.trim();
          const made = await hubApi.post('/api-keys', body);
          clearInlineError(actions);
          form.reset();
          showKey(made, 'New key');
          await reload();
          shown.querySelector('#keys-secret')?.focus();
        } catch (err) {
          inlineError(actions, err);
        }
      });
    });
    return form;
  }

  function showKey(k, title) {
    const titleId = uid('s');
    const done = h('button', { type: 'button', text: 'I saved it', 'data-action': 'hide-key' });
    done.addEventListener('click', () => {
      shown.hidden = true;
      shown.replaceChildren();
      document.getElementById('keys-name')?.focus();
    });
    fill(shown,
      h('h3', { id: titleId, text: `${title}: ${keyName(k)}` }),
      h('p', { class: 'callout secret-warning', role: 'note' },
        h('strong', { text: 'The key is shown only now. ' }),
        'Copy it into the agent’s configuration before you leave this page: Holdfast keeps only its hash.'),
      copyField('API key', k.key, 'API key', 'keys-secret'),
      h('p', { class: 'muted small', text: 'The agent sends it as the X-API-Key header, or as the token of its WebSocket.' }),
      h('div', { class: 'actions' }, done));
    shown.setAttribute('aria-labelledby', titleId);
    shown.hidden = false;
  }

  function item(k) {
    const titleId = uid('k');
    const [text, kind] = STATUS[k.status] || [k.status, 'muted'];
    const actions = h('div', { class: 'row-actions' });
    const buttons = [];
    if (k.status === 'active') {
      const rotate = h('button', { type: 'button', 'data-action': 'rotate', text: 'Rotate', 'aria-label': `Rotate ${keyName(k)}` });
      rotate.addEventListener('click', async () => {
        const ok = await confirmDialog(`Rotate “${keyName(k)}”? The current key stops working at once; the agent needs the new one.`, 'Rotate key');
        if (!ok) return;
        await busy(rotate, async () => {
          try {
            const next = await hubApi.post(`/api-keys/${encodeURIComponent(k.id)}/rotate`);
            showKey(next, 'Rotated key');
            await reload();
            shown.querySelector('#keys-secret')?.focus();
          } catch (err) {
            inlineError(actions, err);
          }
        });
      });
      const revoke = h('button', { type: 'button', class: 'danger', 'data-action': 'revoke', text: 'Revoke', 'aria-label': `Revoke ${keyName(k)}` });
      revoke.addEventListener('click', async () => {
        const ok = await confirmDialog(`Revoke “${keyName(k)}”? The agent using it is disconnected at once.`, 'Revoke key');
        if (!ok) return;
        await busy(revoke, async () => {
          try {
            await hubApi.post(`/api-keys/${encodeURIComponent(k.id)}/revoke`);
            notify(`${keyName(k)} is revoked.`);
            await reload();
          } catch (err) {
            inlineError(actions, err);
          }
        });
      });
      buttons.push(rotate, revoke);
    }
    const del = h('button', { type: 'button', class: 'danger', 'data-action': 'delete', text: 'Delete', 'aria-label': `Delete ${keyName(k)}` });
    del.addEventListener('click', async () => {
      const ok = await confirmDialog(`Delete “${keyName(k)}” and the agent device it stands for? Its messages waiting on the hub are dropped.`, 'Delete key');
      if (!ok) return;
      await busy(del, async () => {
        try {
          await hubApi.del(`/api-keys/${encodeURIComponent(k.id)}`);
          notify(`${keyName(k)} is deleted.`);
          await reload();
        } catch (err) {
          inlineError(actions, err);
        }
      });
    });
    buttons.push(del);
    fill(actions, buttons);
    return h('article', { class: 'agent api-key', 'data-key': k.id, 'aria-labelledby': titleId },
      h('div', { class: 'agent-head' },
        h('h3', { id: titleId, text: keyName(k) }),
        h('span', { class: ['badge', kind], 'data-status': k.status, text })),
      h('dl', { class: 'facts' },
        h('dt', { text: 'Key' }), h('dd', {}, h('code', { text: `${k.prefix}…` })),
        h('dt', { text: 'Agent' }), h('dd', {}, h('a', { href: `#/agents/${encodeURIComponent(k.device_id)}`, text: 'Open chat' })),
        h('dt', { text: 'Created' }), h('dd', { text: at(k.created_at) }),
        h('dt', { text: 'Last used' }), h('dd', { text: at(k.last_used_at) }),
        k.rotated_at ? [h('dt', { text: 'Rotated' }), h('dd', { text: at(k.rotated_at) })] : null,
        k.revoked_at ? [h('dt', { text: 'Revoked' }), h('dd', { text: at(k.revoked_at) })] : null),
      actions);
  }
}
