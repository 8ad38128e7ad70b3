// The Settings section of a vault page: name, size limit, delete the vault.
// Errors show next to the form.

import { api } from '../api.js';
import { h, field, busy, confirmDialog } from '../dom.js';
import { notify } from '../alerts.js';
import { inlineError, clearInlineError } from '../errors.js';
import { quotaInput } from './vaults.js';

/** vault() answers the current vault JSON; onSaved(v) after a change. */
export function settingsForm(vault, onSaved) {
  const vid = encodeURIComponent(vault().id);
  const name = field('Name', { required: true, value: vault().name, autocomplete: 'off' });
  const quota = quotaInput('vault-quota', vault().hard_quota);
  const save = h('button', { type: 'submit', class: 'primary', text: 'Save' });
  const del = h('button', { type: 'button', class: 'danger', 'data-action': 'delete-vault', text: 'Delete vault' });
  const actions = h('div', { class: 'actions' }, save, del);
  const form = h('form', { class: 'stack' }, name.wrap, quota.wrap, actions);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(save, async () => {
      clearInlineError(actions);
      try {
        const v = await api.patch(`/vaults/${vid}`, { name: name.input.value.trim(), hard_quota: quota.value() });
        onSaved(v);
        notify('Saved.');
      } catch (err) {
        inlineError(actions, err);
      }
    });
  });
  del.addEventListener('click', async () => {
    const ok = await confirmDialog(`Delete the vault “${vault().name}” from this computer? Its files can no longer be opened here.`, 'Delete vault');
    if (!ok) return;
    clearInlineError(actions);
    try {
      await api.del(`/vaults/${vid}`);
      notify(`Vault “${vault().name}” deleted.`);
      location.hash = '#/vaults';
    } catch (err) {
      inlineError(actions, err);
    }
  });
  return form;
}
