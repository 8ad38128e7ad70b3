// Home: daemon status, the identity (create, unlock, lock) and what waits.

import { api } from '../api.js';
import { h, fill, section, pageTitle, facts, busy, skeleton } from '../dom.js';
import { showError, notify } from '../alerts.js';
import * as fmt from '../format.js';
import { unlockForm } from '../unlock-form.js';
import { createIdentity } from '../identity-create.js';
import { inlineError } from '../errors.js';
import { conflictText } from '../conflicts.js';

export async function render(ctx) {
  pageTitle(ctx.view, 'Home');
  const statusCard = section('This Holdfast');
  const identityCard = section('Your identity');
  identityCard.classList.add('wide');
  const waitingCard = section('Waiting for you');
  ctx.view.append(h('div', { class: 'grid' }, identityCard, waitingCard, statusCard));

  const uptime = h('span');
  let startedAt = null;
  const tickUptime = () => {
    if (startedAt) uptime.textContent = fmt.duration(Date.now() - startedAt);
  };
  ctx.every(tickUptime, 1000);

  const statusBody = h('div');
  const waitingBody = h('div', {}, skeleton(2, 'Loading what waits for you…'));
  const identityBody = h('div');
  statusCard.append(statusBody);
  waitingCard.append(waitingBody);
  identityCard.append(identityBody);

  let showingPhrase = false;

  async function loadStatus() {
    const [status, vaults] = await Promise.all([
      api.get('/system/status', null, { anonymous: true }),
      api.get('/vaults'),
    ]);
    if (!ctx.alive()) return;
    startedAt = Date.now() - status.uptime_ms;
    tickUptime();
    statusBody.replaceChildren(facts([
      ['Version', status.version],
      ['Running for', uptime],
      ['Apps connect at', status.ipc_addr ? h('code', { text: status.ipc_addr }) : undefined],
      ['Device', h('code', { class: 'wrap', text: status.peer_id })],
    ]));
    const n = status.pending_approvals;
    const total = vaults.reduce((sum, v) => sum + v.byte_count, 0);
    const conflicted = vaults.filter((v) => v.conflict_count > 0);
    const conflicts = conflicted.reduce((sum, v) => sum + v.conflict_count, 0);
    fill(waitingBody,
      n ? h('p', { class: 'big attention', text: `${n} ${n === 1 ? 'request' : 'requests'} from apps` }) : null,
      n ? h('p', {}, h('a', { href: '#/approvals', class: 'button primary', text: 'Review requests' })) : null,
      conflicts ? conflictsWaiting(conflicted, conflicts) : null,
      !n && !conflicts ? h('p', { class: 'big', text: 'Nothing waiting for you.' }) : null,
      h('p', { class: 'muted' },
        `${vaults.length} ${vaults.length === 1 ? 'vault' : 'vaults'}, ${fmt.bytes(total)} in all. `,
        h('a', { href: '#/vaults', text: 'Open vaults' })),
    );
  }

  /** Files changed in two places: how many, and a link to each vault. */
  function conflictsWaiting(conflicted, total) {
    const one = conflicted.length === 1 ? conflicted[0] : null;
    return h('div', { class: 'home-conflicts', 'data-count': String(total) },
      h('p', { class: 'big attention', text: `${conflictText(total)} to decide` }),
      h('p', { class: 'muted', text: total === 1 ? 'A file was changed in two places at once.' : 'Files were changed in two places at once.' }),
      one
        ? h('p', {}, h('a', { href: `#/vaults/${encodeURIComponent(one.id)}`, class: 'button primary', text: `Decide in ${one.name}` }))
        : h('ul', { class: 'conflict-vaults' }, conflicted.map((v) => h('li', {},
          h('a', { href: `#/vaults/${encodeURIComponent(v.id)}`, text: v.name }), ` · ${conflictText(v.conflict_count)}`))));
  }

  async function loadIdentity() {
    if (showingPhrase) return;
    const id = await api.get('/identity');
    if (!ctx.alive() || showingPhrase) return; // the phrase stays until dismissed
    identityBody.replaceChildren(...identityView(id));
  }

  function identityView(id) {
    if (id.state === 'uninitialized') return [createForm()];
    const keyFacts = facts([
      ['Status', h('span', { class: `badge ${id.state}`, text: id.state === 'unlocked' ? 'Unlocked' : 'Locked' })],
      ['Identifier', id.did ? h('code', { class: 'wrap', text: id.did }) : undefined],
      ['Name', id.profile?.display_name || undefined],
    ]);
    if (id.state === 'locked') {
      return [keyFacts, unlockForm(ctx, id, () => {
        notify('Unlocked.');
        loadIdentity();
      })];
    }
    const lock = h('button', { type: 'button', text: 'Lock now' });
    lock.addEventListener('click', () => busy(lock, async () => {
      try {
        await api.post('/identity/lock');
        notify('Locked. Apps must wait until you unlock again.');
        await loadIdentity();
      } catch (err) {
        inlineError(lock.parentElement, err);
      }
    }));
    return [keyFacts,
      h('p', { class: 'muted', text: id.remembered
        ? 'Remembered on this computer: Holdfast unlocks by itself when it starts.'
        : 'Apps can ask you to sign in and sign things while it is unlocked.' }),
      h('div', { class: 'actions' }, lock)];
  }

  function createForm() {
    const box = h('div');
    showingPhrase = true; // the steps stay until the words are confirmed
    createIdentity(ctx, box, {
      intro: 'Your identity is a key that stays on this computer. Apps ask you before they use it, and it locks your vaults.',
      onCreated: () => {
        showingPhrase = false;
        notify('Your identity is ready.');
        loadIdentity().catch(showError);
      },
    });
    return box;
  }

  ctx.subscribe(['identity_state'], () => loadIdentity().catch(showError));
  ctx.subscribe(['approval_requested', 'approval_resolved', 'vault_created', 'vault_deleted',
    'vault_changed', 'file_conflict', 'file_updated', 'file_deleted'],
    () => loadStatus().catch(() => {}));
  await Promise.all([loadStatus(), loadIdentity()]);
}
