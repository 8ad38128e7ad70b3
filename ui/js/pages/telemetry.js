// Telemetry: what one agent reported about its own work (spans it sends to
// the hub, §9 of the device protocol). Pick an agent and a window: the
// summary figures (spans, errors, error rate, median and 95th percentile
// durations), a chart of spans over time (an SVG bar chart, errors stacked
// on top, with the same numbers in a table for screen readers and anyone
// who prefers one), the span names, and the latest spans.
// `#/telemetry/<hub_id>` opens one agent.

import { hubApi } from '../api.js';
import { h, fill, section, pageTitle, empty, uid } from '../dom.js';
import { explain } from '../errors.js';
import * as fmt from '../format.js';
import { hubTabs } from '../hub-tabs.js';

const SVG = 'http://www.w3.org/2000/svg';
const WINDOWS = [['Last hour', 3_600_000], ['Last 24 hours', 86_400_000], ['Last 7 days', 7 * 86_400_000]];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.append(c);
  return el;
}

const ms = (v) => (v === null || v === undefined ? '—' : v < 1000 ? `${v} ms` : fmt.duration(v));
const pct = (r) => `${(r * 100).toFixed(r > 0 && r < 0.01 ? 2 : 1)} %`;

/** The time of a bucket start, short for the window. */
function tick(t, bucket) {
  const d = new Date(t);
  return bucket >= 86_400_000
    ? d.toLocaleDateString([], { day: 'numeric', month: 'short' })
    : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Bars of spans per bucket (errors stacked on top), as an accessible SVG. */
export function spanChart(summary) {
  const buckets = summary.buckets || [];
  const W = 640; const H = 200; const L = 36; const B = 24; const T = 8;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const bw = (W - L) / Math.max(1, buckets.length);
  const y = (n) => T + (H - T - B) * (1 - n / max);
  const titleId = uid('ct');
  const descId = uid('cd');
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'span-chart', 'aria-labelledby': `${titleId} ${descId}`,
    preserveAspectRatio: 'none',
  },
  s('title', { id: titleId }, document.createTextNode('Spans over time')),
  s('desc', { id: descId }, document.createTextNode(
    `${summary.total} spans, ${summary.errors} of them errors, in ${buckets.length} intervals of ${fmt.duration(summary.bucket_ms)}; the busiest interval had ${max === 1 && !summary.total ? 0 : max}.`)));
  svg.append(s('line', { x1: L, x2: W, y1: H - B, y2: H - B, class: 'axis' }));
  for (const v of [0, max]) {
    const label = s('text', { x: L - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' });
    label.textContent = String(v);
    svg.append(label);
  }
  buckets.forEach((b, i) => {
    const x = L + i * bw + 1;
    const w = Math.max(1, bw - 2);
    const ok = b.count - b.errors;
    if (ok > 0) svg.append(s('rect', { x, y: y(b.count), width: w, height: y(b.errors) - y(b.count), class: 'bar ok' }));
    if (b.errors > 0) svg.append(s('rect', { x, y: y(b.errors), width: w, height: (H - B) - y(b.errors), class: 'bar err' }));
  });
  const every = Math.max(1, Math.ceil(buckets.length / 6));
  buckets.forEach((b, i) => {
    if (i % every) return;
    const t = s('text', { x: L + i * bw, y: H - 6, class: 'tick' });
    t.textContent = tick(b.start_ms, summary.bucket_ms);
    svg.append(t);
  });
  return svg;
}

function chartTable(summary) {
  const rows = (summary.buckets || []).filter((b) => b.count > 0).map((b) => h('tr', {},
    h('th', { scope: 'row', text: fmt.when(b.start_ms) }),
    h('td', { text: String(b.count) }),
    h('td', { text: String(b.errors) })));
  return h('details', { class: 'chart-table' },
    h('summary', { text: 'Show the numbers as a table' }),
    rows.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('caption', { text: `Spans per ${fmt.duration(summary.bucket_ms)}, intervals with spans only` }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'From' }), h('th', { scope: 'col', text: 'Spans' }), h('th', { scope: 'col', text: 'Errors' }))),
        h('tbody', {}, rows)))
      : empty('No spans in this window.'));
}

function figures(summary) {
  const fig = (label, value, cls) => h('div', { class: ['figure', cls] },
    h('dt', { text: label }), h('dd', { text: value }));
  return h('dl', { class: 'telemetry-figures' },
    fig('Spans', String(summary.total)),
    fig('Errors', String(summary.errors), summary.errors ? 'bad' : null),
    fig('Error rate', pct(summary.error_rate), summary.errors ? 'bad' : null),
    fig('Median duration', ms(summary.p50_ms)),
    fig('95th percentile', ms(summary.p95_ms)));
}

function namesTable(summary) {
  if (!summary.by_name.length) return empty('No spans in this window.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table listy span-names' },
    h('caption', { class: 'sr-only', text: 'Spans by name' }),
    h('thead', {}, h('tr', {},
      ...['Name', 'Spans', 'Errors', 'Median', '95th pct.'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, summary.by_name.map((n) => h('tr', {},
      h('th', { scope: 'row' }, h('code', { text: n.name })),
      h('td', { 'data-label': 'Spans', text: String(n.count) }),
      h('td', { 'data-label': 'Errors', text: String(n.errors) }),
      h('td', { 'data-label': 'Median', text: ms(n.p50_ms) }),
      h('td', { 'data-label': '95th pct.', text: ms(n.p95_ms) }))))));
}

function spansTable(spans) {
  if (!spans.length) return empty('No spans in this window.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table listy recent-spans' },
    h('caption', { class: 'sr-only', text: 'Latest spans' }),
    h('thead', {}, h('tr', {},
      ...['Name', 'Started', 'Duration', 'Status'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, spans.map((sp) => h('tr', {},
      h('th', { scope: 'row' }, h('code', { text: sp.name || '(unnamed)' })),
      h('td', { 'data-label': 'Started', text: fmt.when(sp.start_ms ?? sp.received_at_ms) }),
      h('td', { 'data-label': 'Duration', text: ms(sp.duration_ms) }),
      h('td', { 'data-label': 'Status' }, sp.status?.code === 2
        ? h('span', { class: 'badge danger', text: 'Error' })
        : h('span', { class: 'badge ok', text: 'OK' })))))));
}

export async function render(ctx) {
  pageTitle(ctx.view, 'Telemetry');
  ctx.view.append(hubTabs('telemetry'));
  let agents;
  try {
    agents = (await hubApi.get('/devices')).filter((d) => d.device_type === 'agent');
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    ctx.view.append(h('div', { class: 'load-error callout', role: 'alert' },
      h('p', { text: `Telemetry could not load: ${explain(err)}` })));
    return;
  }
  if (!ctx.alive()) return;
  if (!agents.length) {
    ctx.view.append(section('Your agents’ telemetry',
      empty('No agents yet. Once an agent enrols and reports spans, they show here.')));
    return;
  }
  const picked = agents.find((a) => a.hub_id === ctx.arg) || agents.find((a) => a.status === 'ACTIVE') || agents[0];
  const agentId = uid('ag');
  const windowId = uid('w');
  const select = h('select', { id: agentId },
    agents.map((a) => h('option', { value: a.hub_id, text: a.name || 'Unnamed agent', selected: a.hub_id === picked.hub_id })));
  const win = h('select', { id: windowId },
    WINDOWS.map(([t, v], i) => h('option', { value: String(v), text: t, selected: i === 1 })));
  const controls = h('form', { class: 'telemetry-controls', role: 'search', 'aria-label': 'Which agent and when' },
    h('div', { class: 'field' }, h('label', { for: agentId, text: 'Agent' }), select),
    h('div', { class: 'field' }, h('label', { for: windowId, text: 'Window' }), win));
  controls.addEventListener('submit', (e) => e.preventDefault());

  const summaryCard = section('Summary');
  summaryCard.id = 'telemetry-summary';
  const summaryBody = h('div', { 'aria-live': 'polite' });
  summaryCard.append(summaryBody);
  const chartCard = section('Spans over time');
  chartCard.id = 'telemetry-chart';
  const chartBody = h('div');
  chartCard.append(chartBody);
  const namesCard = section('By span name');
  const namesBody = h('div');
  namesCard.append(namesBody);
  const recentCard = section('Latest spans');
  const recentBody = h('div');
  recentCard.append(recentBody);
  ctx.view.append(controls, summaryCard, chartCard, namesCard, recentCard);

  let key = '';
  async function load() {
    const hubId = select.value;
    const until = Date.now();
    const since = until - Number(win.value);
    const [summary, spans] = await Promise.all([
      hubApi.get(`/telemetry/${encodeURIComponent(hubId)}/summary`, { since, until }),
      hubApi.get(`/telemetry/${encodeURIComponent(hubId)}`, { since, until, limit: 50 }),
    ]);
    if (!ctx.alive() || hubId !== select.value) return;
    const k = JSON.stringify([hubId, win.value, summary.total, summary.errors, spans.map((x) => x.span_id)]);
    if (k === key) return;
    key = k;
    fill(summaryBody, figures(summary));
    if (summary.total) {
      fill(chartBody, spanChart(summary),
        h('p', { class: 'chart-legend muted small' },
          h('span', { class: 'swatch ok', 'aria-hidden': 'true' }), ' Succeeded ',
          h('span', { class: 'swatch err', 'aria-hidden': 'true' }), ' Failed'),
        chartTable(summary));
    } else {
      fill(chartBody, empty('No spans in this window.'));
    }
    fill(namesBody, namesTable(summary));
    fill(recentBody, spansTable(spans));
  }
  const show = () => load().catch((err) => {
    if (!ctx.alive()) return;
    key = '';
    fill(summaryBody, h('p', { class: 'load-error', role: 'alert', text: `The telemetry could not load: ${explain(err)}` }));
  });
  select.addEventListener('change', () => {
    history.replaceState(null, '', `#/telemetry/${encodeURIComponent(select.value)}`);
    show();
  });
  win.addEventListener('change', show);
  await show();
  ctx.every(show, 30_000);
}
