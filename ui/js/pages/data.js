// Your data: what each app has backed up (latest backup per app, with
// record counts when it uses the standard format), and the export. Opening
// the page reads only the summary; only a download is an export (and is
// recorded in the audit log as one).

import { api, saveBlob } from '../api.js';
import { h, section, pageTitle, empty, busy } from '../dom.js';
import { inlineError } from '../errors.js';
import * as fmt from '../format.js';

function jsonBlob(value) {
  return new Blob([`${JSON.stringify(value, null, 2)}\n`], { type: 'application/json' });
}

function fileSafe(text) {
  return String(text).replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'app';
}

/** {poll: 12, vote: 38} → "38 votes, 12 polls" (largest first). */
function countsText(summary) {
  const entries = Object.entries(summary.counts_by_entry_type || {}).filter(([, n]) => n > 0);
  if (!entries.length) return summary.text || `${summary.total_records} records`;
  return entries
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, n]) => {
      const word = name.replace(/_/g, ' ');
      return `${n} ${n === 1 || /s$/.test(word) ? word : `${word}s`}`;
    })
    .join(', ');
}

export async function render(ctx) {
  pageTitle(ctx.view, 'Your data');
  const body = h('div');
  const all = h('button', { type: 'button', class: 'primary', 'data-action': 'export', text: 'Download everything' });
  ctx.view.append(section('Backups from your apps',
    h('p', { class: 'muted', text: 'Apps keep encrypted backups here. This is the latest one from each app, readable by you.' }),
    body,
    h('div', { class: 'actions' }, all)));

  let exported = null;

  async function load() {
    try {
      exported = await api.get('/backups/export', { summary: 'true' });
    } catch (err) {
      if (err.status === 403) {
        body.replaceChildren(h('p', { class: 'callout' }, 'Unlock Holdfast to see your backups. ',
          h('a', { href: '#/home', text: 'Go to Home' })));
        all.disabled = true;
        return;
      }
      throw err;
    }
    if (!ctx.alive()) return;
    all.disabled = exported.apps.length === 0;
    if (!exported.apps.length) {
      body.replaceChildren(empty('No app has backed anything up yet.'));
      return;
    }
    const rows = exported.apps.map((app) => {
      const save = h('button', { type: 'button', 'data-action': 'download', text: 'Download' });
      save.addEventListener('click', () => busy(save, async () => {
        try {
          const one = await api.get('/backups/export', { client_id: app.client_id });
          const full = one.apps.find((x) => x.client_id === app.client_id);
          if (full) saveBlob(jsonBlob(full), `holdfast-${fileSafe(app.app_name || app.client_id)}-backup.json`);
        } catch (err) {
          inlineError(save, err);
        }
      }));
      const what = app.summary ? countsText(app.summary) : 'Stored as the app wrote it';
      return h('tr', { class: 'backup', 'data-client-id': app.client_id },
        h('th', { scope: 'row' }, h('strong', { text: app.app_name || app.client_id }),
          h('div', { class: 'muted', text: app.label })),
        h('td', { 'data-label': 'What it holds', text: what }),
        h('td', { 'data-label': 'Backed up', text: fmt.when(app.created_ms) }),
        h('td', { class: 'actions-cell' }, save));
    });
    body.replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'table listy' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', text: 'App' }), h('th', { scope: 'col', text: 'What it holds' }),
        h('th', { scope: 'col', text: 'Backed up' }), h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
      h('tbody', {}, rows))));
  }

  all.addEventListener('click', () => busy(all, async () => {
    try {
      // The export itself, recorded in the audit log.
      const full = await api.get('/backups/export');
      saveBlob(jsonBlob(full), `holdfast-export-${new Date().toISOString().slice(0, 10)}.json`);
    } catch (err) {
      inlineError(all, err);
    }
  }));

  await load();
}
