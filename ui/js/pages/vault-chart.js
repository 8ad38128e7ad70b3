// The storage chart of a vault page: space by kind of file (extension),
// from GET /vaults/{id}/analytics, as horizontal SVG bars made with
// createElementNS (no library). The SVG is one labelled image; the same
// figures follow as a table for screen readers and anyone who wants them.

import { h, uid } from '../dom.js';
import * as fmt from '../format.js';

const NS = 'http://www.w3.org/2000/svg';
const SHOWN = 8;

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Group analytics' top_types into at most SHOWN rows (the rest as "other"). */
function rows(analytics) {
  const types = [...(analytics.top_types || [])].sort((a, b) => b.bytes - a.bytes);
  const head = types.slice(0, SHOWN).map((t) => ({
    label: t.extension === '(none)' ? 'no extension' : `.${t.extension}`, files: t.files, bytes: t.bytes,
  }));
  const rest = types.slice(SHOWN);
  if (rest.length) {
    head.push({ label: 'other', files: rest.reduce((n, t) => n + t.files, 0), bytes: rest.reduce((n, t) => n + t.bytes, 0) });
  }
  return head;
}

/** A figure for the analytics answer, or a line when there is nothing yet. */
export function storageChart(analytics) {
  const data = rows(analytics);
  if (!data.length || data.every((d) => d.bytes === 0)) {
    return h('p', { class: 'empty', text: 'No files yet, so nothing takes space.' });
  }
  const titleId = uid('chart');
  const max = Math.max(...data.map((d) => d.bytes));
  const total = data.reduce((n, d) => n + d.bytes, 0);
  const row = 28;
  const labelW = 90;
  const valueW = 80;
  const width = 380;
  const barW = width - labelW - valueW;
  const height = data.length * row + 4;
  const chart = svg('svg', {
    class: 'storage-chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': titleId,
    preserveAspectRatio: 'xMinYMin meet',
  });
  chart.append(svg('title', { id: titleId }, `Space by kind of file: ${data.map((d) => `${d.label} ${fmt.bytes(d.bytes)}`).join(', ')}`));
  data.forEach((d, i) => {
    const y = i * row + 4;
    const w = Math.max(2, Math.round((d.bytes / max) * barW));
    chart.append(
      svg('text', { x: labelW - 8, y: y + 15, 'text-anchor': 'end', class: 'chart-label' }, d.label),
      svg('rect', { x: labelW, y, width: w, height: row - 10, rx: 3, class: 'chart-bar' }),
      svg('text', { x: labelW + w + 6, y: y + 15, class: 'chart-value' }, fmt.bytes(d.bytes)));
  });
  const table = h('table', { class: 'table chart-table' },
    h('caption', { class: 'sr-only', text: 'Space by kind of file' }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'Kind' }), h('th', { scope: 'col', class: 'num', text: 'Files' }),
      h('th', { scope: 'col', class: 'num', text: 'Space' }), h('th', { scope: 'col', class: 'num', text: 'Share' }))),
    h('tbody', {}, data.map((d) => h('tr', {},
      h('th', { scope: 'row', text: d.label }), h('td', { class: 'num', text: String(d.files) }),
      h('td', { class: 'num', text: fmt.bytes(d.bytes) }),
      h('td', { class: 'num', text: `${Math.round((d.bytes / total) * 100)}%` })))));
  return h('figure', { class: 'storage', id: 'storage-chart' },
    h('figcaption', { text: 'Space by kind of file' }),
    chart,
    h('details', {}, h('summary', { text: 'Show as a table' }), h('div', { class: 'table-wrap' }, table)));
}
