// Vaults list: every vault with its fill against its quota, and the form
// to create one.

import { api } from '../api.js';
import { h, field, section, pageTitle, empty, busy, skeleton } from '../dom.js';
import { showError, notify } from '../alerts.js';
import * as fmt from '../format.js';
import { conflictBadge } from '../conflicts.js';

const KEY_STATES = {
  available: ['Open', 'ok'],
  locked: ['Locked', 'warn'],
  password_locked: ['Needs its password', 'warn'],
  no_key: ['Sealed copy', 'muted'],
};

/** A <meter> of bytes used against the quota, with a text equivalent. */
export function quotaBar(v) {
  const id = `q-${v.id}`;
  if (!v.hard_quota) {
    return h('p', { class: 'usage', text: `${fmt.bytes(v.byte_count)} · no size limit` });
  }
  const pct = Math.round((v.byte_count / v.hard_quota) * 100);
  return h('div', { class: 'usage' },
    h('label', { for: id, text: `${fmt.bytes(v.byte_count)} of ${fmt.bytes(v.hard_quota)} (${pct}%)` }),
    h('meter', { id, min: 0, max: v.hard_quota, value: v.byte_count, low: v.hard_quota * 0.75, high: v.hard_quota * 0.9, optimum: 0 }));
}

export function keyBadge(v) {
  const [text, tone] = KEY_STATES[v.key_state] || [v.key_state, 'warn'];
  return h('span', { class: `badge ${tone}`, text });
}

/** Parse a quota: number + unit select; empty means none. */
export function quotaInput(idPrefix, current) {
  const amount = h('input', { id: `${idPrefix}-amount`, type: 'number', min: 0, step: 'any', inputMode: 'decimal', placeholder: 'No limit' });
  const unit = h('select', { id: `${idPrefix}-unit`, 'aria-label': 'Unit' },
    ['MiB', 'GiB', 'TiB'].map((u) => h('option', { value: u, text: u })));
  unit.value = 'GiB';
  if (current) {
    const power = current >= 1024 ** 4 ? 4 : current >= 1024 ** 3 ? 3 : 2;
    unit.value = ['MiB', 'GiB', 'TiB'][power - 2];
    amount.value = String(+(current / 1024 ** power).toFixed(3));
  }
  const wrap = h('div', { class: 'field' },
    h('label', { for: amount.id, text: 'Size limit (optional)' }),
    h('div', { class: 'input-group' }, amount, unit));
  const value = () => {
    if (amount.value.trim() === '') return null;
    const power = { MiB: 2, GiB: 3, TiB: 4 }[unit.value];
    return Math.round(Number(amount.value) * 1024 ** power);
  };
  return { wrap, value, amount };
}

export async function render(ctx) {
  pageTitle(ctx.view, 'Vaults');
  const list = h('ul', { class: 'vault-list' });
  const none = empty('No vaults yet. Create one below to keep files safe and versioned.');
  none.hidden = true;
  list.append(h('li', {}, skeleton(3, 'Loading your vaults…')));
  ctx.view.append(section('Your vaults', list, none), section('New vault', createForm()),
    section('Join a shared vault', joinForm()));

  async function load() {
    const vaults = await api.get('/vaults');
    if (!ctx.alive()) return;
    vaults.sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(...vaults.map(vaultItem));
    none.hidden = vaults.length > 0;
  }

  function vaultItem(v) {
    if (!v.trusted) return sealedItem(v);
    const flags = [];
    if (v.folder) flags.push(`Mirrors ${v.folder}${v.sync_paused ? ' (paused)' : ''}`);
    if (v.read_only) flags.push('Read-only');
    return h('li', { class: 'vault card', 'data-id': v.id },
      h('div', { class: 'vault-head' },
        h('h3', {}, h('a', { href: `#/vaults/${v.id}`, text: v.name })),
        keyBadge(v)),
      h('p', { class: 'muted' }, `${v.file_count} ${v.file_count === 1 ? 'file' : 'files'}`,
        v.conflict_count ? ' · ' : null, conflictBadge(v.conflict_count, `#/vaults/${encodeURIComponent(v.id)}`)),
      quotaBar(v),
      flags.length ? h('p', { class: 'muted small', text: flags.join(' · ') }) : null);
  }

  /** A vault of the network that this device cannot open. */
  function sealedItem(v) {
    return h('li', { class: 'vault card sealed', 'data-id': v.id },
      h('div', { class: 'vault-head' }, h('h3', { text: v.name }), keyBadge(v)),
      h('p', { class: 'muted small', text: v.byte_count
        ? `This device keeps ${fmt.bytes(v.byte_count)} of it, encrypted, so your other devices have one more copy. It cannot be opened here without its share link.`
        : 'Another device of yours holds this vault. Open its share link here (Join a shared vault) to see its files.' }));
  }

  function joinForm() {
    const url = field('Share link', { id: 'join-vault-url', required: true, autocomplete: 'off', spellcheck: false,
      placeholder: 'holdfast://vault/v1/…' }, 'Made on another of your devices: vault page → Your devices → Add another device.');
    const submit = h('button', { type: 'submit', text: 'Join vault' });
    const form = h('form', { id: 'join-vault-form', class: 'stack' }, url.wrap, h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        try {
          const v = await api.post('/vaults/join', { url: url.input.value.trim() });
          notify(`Vault “${v.name}” joined: its files arrive from your other devices.`);
          form.reset();
          location.hash = `#/vaults/${encodeURIComponent(v.id)}`;
        } catch (err) {
          showError(err.status === 503 ? 'Connect this device to your network first (Network page).' : err);
        }
      });
    });
    return form;
  }

  function createForm() {
    const name = field('Name', { id: 'new-vault-name', required: true, autocomplete: 'off', placeholder: 'Documents' });
    const quota = quotaInput('new-vault-quota');
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Create vault' });
    const form = h('form', { id: 'new-vault-form', class: 'stack' }, name.wrap, quota.wrap,
      h('p', { class: 'muted small', text: 'You can link it to a folder on this computer once it exists.' }),
      h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        try {
          const body = { name: name.input.value.trim() };
          const q = quota.value();
          if (q !== null) body.hard_quota = q;
          const v = await api.post('/vaults', body);
          notify(`Vault “${v.name}” created.`);
          form.reset();
          await load();
        } catch (err) {
          showError(err);
        }
      });
    });
    return form;
  }

  ctx.subscribe(['vault_created', 'vault_changed', 'vault_deleted', 'file_updated', 'file_deleted', 'file_conflict'], () => load().catch(() => {}));
  await load();
}
