// "Report a problem" (on Settings): build a redacted diagnostics report,
// list the saved ones with a download link (?token=, an <a download>) and a
// delete button. A daemon without a writable reports folder answers 503:
// the section says so instead of failing the page.

import { api, tokenUrl } from './api.js';
import { h, section, empty, busy, confirmDialog } from './dom.js';
import { showError, notify } from './alerts.js';
import * as fmt from './format.js';

export function reportSection(ctx) {
  const build = h('button', { type: 'button', class: 'primary', 'data-action': 'build-report', text: 'Build a report' });
  const list = h('ul', { id: 'report-list', class: 'rows' });
  const status = empty('Loading reports…');

  async function load() {
    let reports;
    try {
      reports = await api.get('/diagnostics/reports');
    } catch (err) {
      if (!ctx.alive()) return;
      list.replaceChildren();
      status.textContent = err.status === 503
        ? 'Reports cannot be saved on this device (no writable reports folder).'
        : err.message;
      status.hidden = false;
      build.disabled = err.status === 503;
      return;
    }
    if (!ctx.alive()) return;
    list.replaceChildren(...reports.map(reportItem));
    status.textContent = 'No reports yet.';
    status.hidden = reports.length > 0;
  }

  function reportItem(r) {
    const download = h('a', {
      class: 'button', 'data-action': 'download', text: 'Download',
      href: tokenUrl(`/diagnostics/reports/${encodeURIComponent(r.id)}`), download: r.file_name,
    });
    const remove = h('button', { type: 'button', class: 'danger', 'data-action': 'delete', text: 'Delete' });
    remove.addEventListener('click', async () => {
      const ok = await confirmDialog(`Delete the report from ${fmt.when(r.created_ms)}?`, 'Delete');
      if (!ok) return;
      await busy(remove, async () => {
        try {
          await api.del(`/diagnostics/reports/${encodeURIComponent(r.id)}`);
          notify('Report deleted.');
          await load();
        } catch (err) {
          showError(err);
        }
      });
    });
    return h('li', { class: 'row report', 'data-id': r.id },
      h('div', { class: 'row-main' },
        h('strong', { text: fmt.when(r.created_ms) }),
        h('div', { class: 'muted', text: `${r.file_name} · ${fmt.bytes(r.size_bytes)}` })),
      h('div', { class: 'row-actions' }, download, remove));
  }

  build.addEventListener('click', () => busy(build, async () => {
    try {
      await api.post('/diagnostics/reports');
      notify('Report ready. Download it and attach it to your message.');
      await load();
    } catch (err) {
      showError(err);
    }
  }));

  load();
  return section('Report a problem',
    h('p', { class: 'muted', text: 'A report bundles the settings, the last two days of logs and the state of this device, with passwords, tokens, keys and your recovery phrase taken out. Nothing is sent anywhere: download it and attach it yourself.' }),
    h('div', { class: 'actions' }, build),
    status, list);
}
