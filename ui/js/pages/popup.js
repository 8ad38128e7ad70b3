// The desktop app's approval popup (#/popup/<id>): one request, on its own,
// in a small always-on-top window. Closes itself once answered.

import { api } from '../api.js';
import { h, empty } from '../dom.js';
import { approvalCard, updateCard, tickCard } from '../approval-card.js';

export async function render(ctx) {
  document.title = 'A request needs you · Holdfast';
  const holder = h('div', { class: 'popup' });
  ctx.view.append(holder);
  let card = null;

  function done(text) {
    holder.replaceChildren(empty(text));
    // The app closes the window too; this covers a browser tab.
    setTimeout(() => window.close(), 1500);
  }

  async function load() {
    const items = await api.get('/approvals');
    if (!ctx.alive()) return;
    const a = items.find((x) => x.id === ctx.arg);
    if (!a) {
      if (card || !holder.children.length) done('This request was answered or has timed out. You can close this window.');
      card = null;
      return;
    }
    if (card) {
      updateCard(card, a);
      return;
    }
    card = approvalCard(a, (_card, decision) => {
      if (decision) done(decision === 'allow' ? 'Approved. You can close this window.' : 'Denied. You can close this window.');
    });
    holder.replaceChildren(card);
    // Deny has the default focus.
    card.querySelector('button[data-action="deny"]').focus();
  }

  ctx.every(() => card && tickCard(card), 250);
  ctx.every(() => load().catch(() => {}), 2000);
  ctx.subscribe(['approval_resolved'], () => load().catch(() => {}));
  await load();
  if (card) tickCard(card);
}
