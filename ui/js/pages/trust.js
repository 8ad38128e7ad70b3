// Trust: each agent's trust score, computed by the hub from its own records
// (deliveries acknowledged or dead-lettered, suspensions and revocations,
// policy hits, age and activity; never message content), its components,
// and a small history chart (inline SVG, with the same readings as text).
// Below, the tenant's workspaces (teams of agents, with each member's role)
// and their team rooms, and a form to create a workspace.
// Live: device and presence events reload the scores.

import { hubApi } from '../api.js';
import { h, fill, field, section, pageTitle, empty, busy } from '../dom.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import { notify } from '../alerts.js';
import * as fmt from '../format.js';
import { hubTabs } from '../hub-tabs.js';

const TIERS = {
  trusted: ['Trusted', 'ok'],
  established: ['Established', 'ok'],
  provisional: ['Provisional', 'warn'],
  untrusted: ['Untrusted', 'danger'],
  revoked: ['Revoked', 'muted'],
};

/** "1 revocation", "2 revocations". */
const count = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const COMPONENTS = [
  ['delivery', 'Delivery', (c) => `${c.delivered} delivered, ${c.dead_lettered} dead-lettered, ${count(c.nacks, 'retry', 'retries')}`],
  ['policy', 'Policy', (c) => count(c.hits, 'policy hit')],
  ['standing', 'Standing', (c) => `${count(c.suspensions, 'suspension')}, ${count(c.revocations, 'revocation')}`],
  ['tenure', 'Tenure', (c) => `${count(c.age_days, 'day')} since enrolment`],
  ['activity', 'Activity', (c) => (c.last_seen_at ? `last seen ${fmt.ago(Date.parse(c.last_seen_at))}` : 'never seen')],
];

const agentName = (a) => a.name || 'Unnamed agent';

function tierBadge(tier) {
  const [text, kind] = TIERS[tier] || [tier, 'muted'];
  return h('span', { class: ['badge', kind, 'trust-tier'], 'data-tier': tier, text });
}

export async function render(ctx) {
  pageTitle(ctx.view, 'Trust');
  ctx.view.append(hubTabs('trust'));

  let data;
  try {
    data = await fetchAll();
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    ctx.view.append(unavailable(err, ctx));
    return;
  }
  if (!ctx.alive()) return;

  const card = section('Agents');
  card.id = 'trust-agents';
  const list = h('div', { class: 'trust-list' });
  card.append(
    h('p', { class: 'muted', text: 'Each score (0–100) comes from what the hub itself records about the agent: deliveries it acknowledged or dropped, suspensions and revocations, policy hits, how long it has been enrolled and when it was last seen. Message content is never used: the hub cannot read it.' }),
    list);
  const teams = section('Workspaces');
  teams.id = 'trust-workspaces';
  const teamList = h('div', { class: 'trust-list' });
  teams.append(
    h('p', { class: 'muted', text: 'Workspaces group agents into teams, each member with a role (admin, member or viewer); team rooms belong to a workspace.' }),
    teamList, workspaceForm());
  ctx.view.append(card, teams);

  function workspaceForm() {
    const name = field('New workspace name', { id: 'trust-workspace-name', autocomplete: 'off', maxLength: 100, required: true });
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Create workspace' });
    const actions = h('div', { class: 'actions' }, submit);
    const form = h('form', { id: 'trust-workspace-form', class: 'stack trust-workspace-form' }, name.wrap, actions);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        try {
          const w = await hubApi.post('/workspaces', { name: name.input.value.trim() });
          clearInlineError(actions);
          form.reset();
          notify(`Workspace “${w.name}” created.`);
          refresh();
        } catch (err) {
          inlineError(actions, err);
        }
      });
    });
    return form;
  }

  let teamKey = null;
  function drawTeams() {
    const k = JSON.stringify([data.workspaces, data.rooms, data.names]);
    if (k === teamKey) return;
    teamKey = k;
    if (!data.workspaces.length) {
      fill(teamList, empty('No workspaces yet.'));
      return;
    }
    fill(teamList, data.workspaces.map((w) => {
      const titleId = `ws-${w.id}`;
      const rooms = data.rooms.filter((r) => r.workspace_id === w.id);
      return h('article', { class: 'trust-agent trust-workspace', 'data-key': w.id, 'aria-labelledby': titleId },
        h('h3', { id: titleId, text: w.name }),
        w.description ? h('p', { text: w.description }) : null,
        h('p', { class: 'small' }, h('strong', { text: 'Members: ' }),
          w.members.map((m) => `${m.kind === 'owner' ? 'You' : data.names[m.member_id] || 'Removed agent'} (${m.role})`).join(', ')),
        h('p', { class: 'small' }, h('strong', { text: 'Team rooms: ' }),
          rooms.length ? rooms.map((r) => r.name).join(', ') : 'none yet'));
    }));
  }

  let key = null;
  function draw() {
    const k = JSON.stringify(data.agents.map((x) => [x.score.score, x.score.components, x.history.length, x.device.status]));
    if (k === key) return;
    key = k;
    if (!data.agents.length) {
      fill(list, empty('No agents yet. Invite one on the Agents page: its score shows here once it enrols.'));
      return;
    }
    fill(list, data.agents.map(agentCard));
  }
  draw();
  drawTeams();

  let loading = null;
  let again = false;
  function refresh() {
    if (loading) {
      again = true;
      return;
    }
    loading = (async () => {
      do {
        again = false;
        const next = await fetchAll();
        if (!ctx.alive()) return;
        data = next;
        draw();
        drawTeams();
      } while (again && ctx.alive());
    })().catch(() => {}).finally(() => { loading = null; });
  }
  ctx.subscribe(['agent_device', 'agent_presence'], refresh);
  ctx.every(refresh, 60_000);
}

async function fetchAll() {
  const [devices, workspaces, rooms] = await Promise.all([
    hubApi.get('/devices'), hubApi.get('/workspaces'), hubApi.get('/team-rooms'),
  ]);
  const names = Object.fromEntries(devices.map((d) => [d.id, d.name]));
  return { agents: await scores(devices), workspaces, rooms, names };
}

async function scores(devices) {
  const agents = devices.filter((d) => d.device_type === 'agent');
  return Promise.all(agents.map(async (device) => {
    const id = encodeURIComponent(device.hub_id);
    const score = await hubApi.get(`/trust-scores/${id}`);
    const history = (await hubApi.get(`/trust-scores/${id}/history`, { limit: 50 })).history;
    return { device, score, history };
  }));
}

function agentCard({ device, score, history }) {
  const titleId = `trust-${device.id}`;
  return h('article', { class: 'trust-agent', 'data-key': device.hub_id, 'aria-labelledby': titleId },
    h('div', { class: 'trust-head' },
      h('h3', { id: titleId, text: agentName(device) }),
      h('p', { class: 'trust-score' },
        h('span', { class: 'trust-number', 'data-score': score.score, text: String(score.score) }),
        h('span', { class: 'muted', text: ' / 100 ' }),
        tierBadge(score.tier))),
    h('ul', { class: 'trust-components', 'aria-label': `What ${agentName(device)}’s score is made of` },
      COMPONENTS.map(([name, label, detail]) => {
        const c = score.components[name] || {};
        const id = `${titleId}-${name}`;
        return h('li', { class: 'trust-component', 'data-component': name },
          h('span', { class: 'trust-label', id, text: `${label} ${c.score ?? '—'}` }),
          h('meter', { min: 0, max: 100, value: c.score ?? 0, 'aria-labelledby': id }),
          h('span', { class: 'muted small trust-detail', text: `${detail(c)} · weight ${Math.round((c.weight || 0) * 100)}%` }));
      })),
    historyChart(device, history));
}

/** The score over time as a line, and the same readings as text. */
function historyChart(device, rows) {
  const figure = h('figure', { class: 'trust-history' });
  const caption = h('figcaption', { class: 'muted small' });
  if (rows.length < 2) {
    caption.textContent = rows.length
      ? `One reading so far: ${rows[0].score} on ${fmt.when(rows[0].computed_ms)}.`
      : 'No readings yet.';
    figure.append(caption);
    return figure;
  }
  const W = 240;
  const H = 60;
  const t0 = rows[0].computed_ms;
  const span = Math.max(1, rows[rows.length - 1].computed_ms - t0);
  const points = rows.map((r) => {
    const x = 2 + ((r.computed_ms - t0) / span) * (W - 4);
    const y = 2 + (1 - r.score / 100) * (H - 4);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'trust-chart');
  svg.setAttribute('role', 'img');
  const first = rows[0];
  const last = rows[rows.length - 1];
  const summary = `${agentName(device)}: ${rows.length} readings from ${first.score} on ${fmt.when(first.computed_ms)} to ${last.score} on ${fmt.when(last.computed_ms)}.`;
  svg.setAttribute('aria-label', summary);
  const base = document.createElementNS(NS, 'line');
  for (const [k, v] of [['x1', 0], ['x2', W], ['y1', H - 2], ['y2', H - 2], ['class', 'trust-axis']]) base.setAttribute(k, v);
  const line = document.createElementNS(NS, 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('class', 'trust-line');
  svg.append(base, line);
  caption.textContent = summary;
  const table = h('table', { class: 'trust-table' },
    h('caption', { class: 'sr-only', text: `Score history of ${agentName(device)}` }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'When' }), h('th', { scope: 'col', text: 'Score' }), h('th', { scope: 'col', text: 'Tier' }))),
    h('tbody', {}, rows.slice().reverse().map((r) => h('tr', {},
      h('td', { text: fmt.when(r.computed_ms) }), h('td', { text: String(r.score) }), h('td', { text: (TIERS[r.tier] || [r.tier])[0] })))));
  figure.append(svg, caption,
    h('details', { class: 'trust-readings' }, h('summary', { text: 'Readings as a table' }), h('div', { class: 'table-wrap' }, table)));
  return figure;
}

/** The scores cannot load: say so, offer a retry. */
function unavailable(err, ctx) {
  const text = err.status === 404
    ? 'This Holdfast does not offer trust scores. Update Holdfast, then try again.'
    : `Trust scores could not load: ${explain(err)}`;
  return h('div', { class: 'load-error callout trust-unavailable', role: 'alert' },
    h('p', { text }),
    h('button', {
      type: 'button', text: 'Try again',
      on: { click: () => { if (ctx.alive()) window.dispatchEvent(new HashChangeEvent('hashchange')); } },
    }));
}
