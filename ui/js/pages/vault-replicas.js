// A vault's copies on the user's devices: who holds it (full or sealed),
// whether each is in step, a progress bar while this device catches up,
// why syncing paused, and the share link that adds another device.

import { api } from '../api.js';
import { h, fill, busy } from '../dom.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';

const ROLES = {
  trusted: 'Full copy',
  replica: 'Sealed copy (holds encrypted data it cannot read)',
};

function holderItem(r) {
  const name = r.display_name || `Device ${String(r.node_id).slice(-8)}`;
  const state = r.in_sync ? ['In step', 'ok'] : ['Catching up', 'warn'];
  return h('li', { class: 'replica', 'data-node': r.node_id },
    h('span', { class: 'replica-name', title: r.node_id, text: r.self ? `${name} (this device)` : name }),
    h('span', { class: 'muted small', text: ROLES[r.role] || r.role }),
    h('span', { class: `badge ${state[1]}`, text: state[0] }));
}

/** Progress of this device's catch-up, as a <progress> with its words. */
function progressOf(rep) {
  if (!rep || rep.state === 'idle') return null;
  if (rep.state === 'paused') {
    return h('p', { class: 'alert warn', role: 'status', text: `Syncing paused: ${rep.reason || 'see the log'}` });
  }
  const total = rep.pending_bytes || 0;
  const done = Math.min(rep.received_bytes || 0, total);
  const label = total
    ? `Receiving ${fmt.bytes(total)} from other devices…`
    : 'Comparing with other devices…';
  const id = 'replication-progress';
  return h('div', { class: 'usage' },
    h('label', { for: id, text: label }),
    total ? h('progress', { id, max: total, value: done }) : h('progress', { id }));
}

export function replicationPanel(vaultId) {
  const vid = encodeURIComponent(vaultId);
  const summary = h('p', { id: 'replica-summary', 'aria-live': 'polite' });
  const progress = h('div');
  const list = h('ul', { class: 'replica-list', id: 'replica-list' });
  const shareOut = h('div', { class: 'share-out' });
  const shareBtn = h('button', { type: 'button', id: 'share-vault', text: 'Add another device…' });
  const syncBtn = h('button', { type: 'button', id: 'sync-now', text: 'Sync now' });
  const element = h('div', { class: 'stack' }, summary, progress, list,
    h('div', { class: 'actions' }, shareBtn, syncBtn), shareOut);

  async function refresh() {
    try {
      const info = await api.get(`/vaults/${vid}/info`);
      clearInlineError(element);
      const held = info.rf_actual || 1;
      const target = info.rf_target || 1;
      const words = held >= target
        ? `Kept on ${held} ${held === 1 ? 'device' : 'devices'} (target ${target}).`
        : `Kept on ${held} of the ${target} devices it should be on: another device of yours can hold it (Add another device).`;
      summary.textContent = words;
      summary.className = held >= target ? '' : 'warn-text';
      fill(progress, progressOf(info.replication));
      list.replaceChildren(...(info.replicas || []).map(holderItem));
    } catch (err) {
      inlineError(element, explain(err));
    }
  }

  shareBtn.addEventListener('click', () => busy(shareBtn, async () => {
    try {
      const { url } = await api.get(`/vaults/${vid}/share-url`);
      const input = h('input', { type: 'text', readonly: true, id: 'vault-share-url', value: url, 'aria-describedby': 'vault-share-hint' });
      const copy = h('button', { type: 'button', text: 'Copy' });
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(url);
          copy.textContent = 'Copied';
        } catch {
          input.select();
        }
      });
      fill(shareOut,
        h('label', { for: input.id, text: 'Share link' }),
        h('div', { class: 'input-group' }, input, copy),
        h('small', { class: 'hint', id: 'vault-share-hint',
          text: 'This link holds the vault’s key: whoever has it can read the vault. Open it only on your own devices (Vaults → Join a shared vault).' }));
    } catch (err) {
      fill(shareOut, h('p', { class: 'alert warn', role: 'alert',
        text: err.status === 503 ? 'Connect this device to a network first (Network page); then you can add other devices.' : explain(err) }));
    }
  }));

  syncBtn.addEventListener('click', () => busy(syncBtn, async () => {
    try {
      await api.post('/replicate-now', {});
      summary.textContent = 'Comparing with other devices…';
    } catch (err) {
      fill(shareOut, h('p', { class: 'alert warn', role: 'alert',
        text: err.status === 503 ? 'This device is not connected to a network, so there is nothing to sync with.' : explain(err) }));
    }
  }));

  return { element, refresh };
}
