// The desktop app's approval popup (#/popup/<id>): one request, on its own,
// in a small always-on-top window. Once answered (here, elsewhere, by the
// deadline, or withdrawn by the app) it says what happened, then closes.

import { api } from '../api.js';
import { h, skeleton } from '../dom.js';
import { approvalCard, updateCard, tickCard, outcomeOf, outcomeText } from '../approval-card.js';

export async function render(ctx) {
  document.title = 'A request needs you · Holdfast';
  const holder = h('div', { class: 'popup' }, skeleton(4, 'Loading the request…'));
  ctx.view.append(holder);
  let card = null;
  let shown = null; // the request as last seen
  let finished = false;

  function done(text) {
    if (finished) return;
    finished = true;
    card = null;
    holder.replaceChildren(h('div', { class: 'approval-result card', role: 'status' },
      h('p', { class: 'result-text', text }),
      h('p', { class: 'muted', text: 'You can close this window.' })));
    // The app closes the window too; this covers a browser tab.
    setTimeout(() => window.close(), 4000);
  }

  /** Why a request we showed is gone: the daemon's announcement, else the deadline. */
  function goneText() {
    const outcome = outcomeOf(ctx.arg);
    if (outcome) return outcomeText(outcome, shown);
    if (shown?.deadline_ms && Date.now() >= shown.deadline_ms) return outcomeText('timeout', shown);
    return outcomeText(null, shown);
  }

  async function load() {
    if (finished) return;
    const items = await api.get('/approvals');
    if (!ctx.alive() || finished) return;
    const a = items.find((x) => x.id === ctx.arg);
    if (!a) {
      done(goneText());
      return;
    }
    shown = a;
    if (card) {
      updateCard(card, a);
      return;
    }
    card = approvalCard(a, (_card, decision, text) => {
      if (decision) done(text);
    });
    holder.replaceChildren(card);
    tickCard(card);
    // Deny has the default focus.
    card.querySelector('button[data-action="deny"]').focus();
  }

  ctx.every(() => card && tickCard(card), 250);
  ctx.every(() => load().catch(() => {}), 2000);
  ctx.subscribe(['approval_resolved'], (e) => {
    if (e.id === ctx.arg && !card?.classList.contains('answering')) done(outcomeText(e.outcome, shown));
  });
  await load();
}
