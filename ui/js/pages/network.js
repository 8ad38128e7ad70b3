// Network: the private network this device shares with your other devices.
// With none yet, a welcome: create one, or join with an invite link. Once
// in one: its name and fingerprint, an invite link (text, Copy, QR code),
// Connect/Disconnect, the saved networks (Forget), the peers with a speed
// test each, a map of who is linked to whom, and the recent traffic. Live:
// peer and network events refresh it, and it polls gently for uptime and
// traffic.

import { api } from '../api.js';
import { h, fill, field, section, pageTitle, facts, busy, empty, syncList, confirmDialog, uid } from '../dom.js';
import { notify } from '../alerts.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';
import qrcode from '../../vendor/qrcode-generator/qrcode.mjs';

const SVG = 'http://www.w3.org/2000/svg';
const STATES = {
  connected: ['Connected', 'ok'],
  connecting: ['Connecting…', 'warn'],
  offline: ['Disconnected', 'warn'],
  none: ['No network', 'warn'],
};
const INVITE_TTLS = [['1 hour', 3600], ['1 day', 86_400], ['7 days', 604_800], ['30 days', 2_592_000]];

/** An SVG element (attributes set as attributes; children appended). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** "12D3KooWAbc…xyz789": enough to tell peers apart. */
export function shortId(id) {
  if (!id) return '';
  return id.length > 16 ? `${id.slice(0, 10)}…${id.slice(-6)}` : id;
}

function peerName(n) {
  return n.display_name || (n.self ? 'This device' : 'Unnamed device');
}

/** bytes over milliseconds, as "4.2 MiB/s". */
function rate(t) {
  const bps = t.duration_ms > 0 ? (t.bytes * 1000) / t.duration_ms : t.throughput_bps / 8;
  return Number.isFinite(bps) ? `${fmt.bytes(Math.round(bps))}/s` : '—';
}

function speedText(t) {
  const ms = t.latency_ms < 10 ? Number(t.latency_ms).toFixed(1) : Math.round(t.latency_ms);
  return `${ms} ms · ${rate(t)}`;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A button showing a shortened id that copies the full one. */
function idButton(id) {
  return h('button', {
    type: 'button', class: 'link-button node-id', title: `${id} (click to copy)`, text: shortId(id),
    'aria-label': `${shortId(id)}: copy the full device id`,
    on: { click: async () => { if (await copyText(id)) notify('Device id copied.'); } },
  });
}

/**
 * The QR code of `text` as an SVG: black modules on white with the quiet
 * zone, whatever the theme, so phone cameras read it.
 */
export function qrSvg(text, label) {
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  const q = 4;
  let d = '';
  for (let r = 0; r < n; r += 1) {
    for (let c = 0; c < n; c += 1) if (qr.isDark(r, c)) d += `M${c + q} ${r + q}h1v1h-1z`;
  }
  const titleId = uid('qr');
  return s('svg', {
    class: 'qr', viewBox: `0 0 ${n + 2 * q} ${n + 2 * q}`, role: 'img', 'aria-labelledby': titleId,
    'shape-rendering': 'crispEdges', 'data-modules': n,
  },
  s('title', { id: titleId }, label),
  s('rect', { width: n + 2 * q, height: n + 2 * q, fill: '#fff' }),
  s('path', { d, fill: '#000' }));
}

/** A map of the mesh: nodes on a circle, self highlighted, links as lines. */
export function topologySvg(topo) {
  const nodes = [...(topo.nodes || [])];
  // This device first, at the top of the circle.
  nodes.sort((a, b) => (b.self ? 1 : 0) - (a.self ? 1 : 0));
  const W = 360;
  const H = nodes.length > 1 ? 280 : 110;
  const cx = W / 2;
  const cy = H / 2 - 8;
  const R = nodes.length > 1 ? 95 : 0;
  const pos = new Map();
  nodes.forEach((n, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(nodes.length, 1);
    pos.set(n.node_id, [cx + R * Math.cos(a), cy + R * Math.sin(a)]);
  });
  const names = new Map(nodes.map((n) => [n.node_id, peerName(n)]));
  const edges = (topo.edges || []).filter((e) => pos.has(e.from) && pos.has(e.to));
  const titleId = uid('topo');
  const descId = uid('topo');
  const self = nodes.find((n) => n.self);
  const desc = `${nodes.length} ${nodes.length === 1 ? 'device' : 'devices'} and ${edges.length} ${edges.length === 1 ? 'link' : 'links'}`
    + `${self ? `; this device is ${peerName(self)}` : ''}. The list below the map says the same.`;
  const svg = s('svg', { class: 'topology', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}` },
    s('title', { id: titleId }, 'Map of your network'),
    s('desc', { id: descId }, desc));
  for (const e of edges) {
    const [x1, y1] = pos.get(e.from);
    const [x2, y2] = pos.get(e.to);
    svg.append(s('line', { class: 'edge', x1, y1, x2, y2 }));
  }
  for (const n of nodes) {
    const [x, y] = pos.get(n.node_id);
    const label = peerName(n);
    const g = s('g', { class: ['node', n.self ? 'self' : '', n.connected || n.self ? 'on' : 'off'].join(' ').trim(), 'data-id': n.node_id },
      s('circle', { cx: x, cy: y, r: n.self ? 16 : 12 }),
      s('text', { x, y: y + (n.self ? 32 : 28), 'text-anchor': 'middle' }, label.length > 16 ? `${label.slice(0, 15)}…` : label));
    svg.append(g);
  }
  // The same, as a list for screen readers.
  const list = h('ul', { class: 'sr-only topology-list' }, nodes.map((n) => {
    const linked = edges.filter((e) => e.from === n.node_id || e.to === n.node_id)
      .map((e) => names.get(e.from === n.node_id ? e.to : e.from));
    return h('li', {
      text: `${peerName(n)}${n.self ? ' (this device)' : ''}, ${n.self || n.connected ? 'connected' : 'not connected'}; `
        + `${linked.length ? `linked to ${[...new Set(linked)].join(', ')}` : 'no links'}.`,
    });
  }));
  return h('div', { class: 'topology-wrap' }, svg, list);
}

/** Traffic of the last buckets: received and sent, as two lines. */
export function sparkline(t) {
  const buckets = t.buckets || [];
  const W = 300;
  const H = 60;
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.bytes_in, b.bytes_out)));
  const step = buckets.length > 1 ? W / (buckets.length - 1) : W;
  const line = (key) => buckets
    .map((b, i) => `${(i * step).toFixed(1)},${(H - 2 - ((H - 4) * b[key]) / max).toFixed(1)}`).join(' ');
  const inSum = buckets.reduce((a, b) => a + b.bytes_in, 0);
  const outSum = buckets.reduce((a, b) => a + b.bytes_out, 0);
  const span = fmt.duration(buckets.length * (t.bucket_ms || 10_000));
  const summary = `In the last ${span}: ${fmt.bytes(inSum)} received, ${fmt.bytes(outSum)} sent.`;
  if (buckets.length < 2) {
    return h('div', { class: 'traffic' },
      h('p', { class: 'muted traffic-summary', text: `${buckets.length ? summary : ''} The graph appears after a few seconds.`.trim() }));
  }
  return h('div', { class: 'traffic' },
    s('svg', { class: 'sparkline', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
      s('polyline', { class: 'in', points: line('bytes_in') }),
      s('polyline', { class: 'out', points: line('bytes_out') })),
    h('p', { class: 'small' },
      h('span', { class: 'legend in', text: 'Received' }), ' ', h('span', { class: 'legend out', text: 'Sent' })),
    h('p', { class: 'muted traffic-summary', text: summary }));
}

export async function render(ctx) {
  pageTitle(ctx.view, 'Network');

  let nets;
  try {
    nets = await api.get('/networks');
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    ctx.view.append(unavailable(err, ctx));
    return;
  }
  if (!ctx.alive()) return;

  const stateCard = section('Your network');
  stateCard.id = 'network-state';
  const savedCard = section('Saved networks');
  savedCard.id = 'saved-networks';
  const peersCard = section('Devices in this network');
  peersCard.id = 'peers';
  const mapCard = section('Map');
  mapCard.id = 'topology';
  const trafficCard = section('Traffic');
  trafficCard.id = 'traffic';
  const stateBody = h('div');
  const invitePanel = h('div', { class: 'invite-panel', hidden: true });
  const savedBody = h('div');
  const peersBody = h('div');
  const mapBody = h('div');
  const trafficBody = h('div');
  stateCard.append(stateBody, invitePanel);
  savedCard.append(savedBody);
  peersCard.append(peersBody);
  mapCard.append(mapBody);
  trafficCard.append(trafficBody);
  const mesh = h('div', { class: 'grid network-mesh' }, mapCard, trafficCard);
  ctx.view.append(stateCard, peersCard, mesh, savedCard);

  let lastActive = null;
  let stateKey = null;
  let savedKey = null;
  let peerTable = null;

  async function load() {
    const [list, status] = await Promise.all([
      api.get('/networks'),
      api.get('/system/status').catch(() => null),
    ]);
    if (!ctx.alive()) return;
    nets = list;
    renderState(status);
    renderSaved();
    const inNetwork = !!nets.active_id && nets.state !== 'none';
    peersCard.hidden = !inNetwork;
    mesh.hidden = !inNetwork;
    if (inNetwork) await Promise.all([loadPeers(), loadMap(), loadTraffic()]);
  }

  const active = () => (nets.networks || []).find((n) => n.id === nets.active_id) || null;

  // ---- The state: welcome, or the active network ----
  function renderState(status) {
    const net = active();
    if (!net || nets.state === 'none') {
      // Saved networks but none active (after Disconnect): say so; the
      // saved list below offers Connect.
      const kind = (nets.networks || []).length ? 'saved' : 'none';
      stateKey = null;
      if (lastActive !== null || stateBody.dataset.kind !== kind) {
        invitePanel.hidden = true;
        stateBody.dataset.kind = kind;
        fill(stateBody, kind === 'none' ? welcome() : notConnected());
      }
      lastActive = null;
      return;
    }
    delete stateBody.dataset.kind;
    if (lastActive !== net.id) {
      invitePanel.hidden = true;
      invitePanel.replaceChildren();
    }
    lastActive = net.id;
    // Redraw only on change, so a refresh keeps focus where it is.
    const key = JSON.stringify([net, nets.state, status?.peer_id, status?.listen_addrs]);
    if (key === stateKey) return;
    stateKey = key;
    const [label, tone] = STATES[nets.state] || [nets.state, 'warn'];
    const connected = nets.state === 'connected' || nets.state === 'connecting';
    const invite = h('button', { type: 'button', class: 'primary', 'data-action': 'invite', text: 'Invite a device' });
    const toggle = connected
      ? h('button', { type: 'button', 'data-action': 'disconnect', text: 'Disconnect' })
      : h('button', { type: 'button', class: 'primary', 'data-action': 'connect', text: 'Connect' });
    const actions = h('div', { class: 'actions' }, invite, toggle);
    invite.addEventListener('click', () => {
      invitePanel.hidden = false;
      if (!invitePanel.firstChild) fill(invitePanel, inviteForm(net));
      invitePanel.querySelector('button[type="submit"]')?.focus();
    });
    toggle.addEventListener('click', () => busy(toggle, async () => {
      try {
        if (connected) await api.post('/networks/disconnect');
        else await api.post(`/networks/${encodeURIComponent(net.id)}/connect`);
        clearInlineError(actions);
        notify(connected ? `Disconnected from “${net.name}”.` : `Connecting to “${net.name}”…`);
        await load();
      } catch (err) {
        inlineError(actions, err);
      }
    }));
    const addrs = status?.listen_addrs || [];
    fill(stateBody,
      h('div', { class: 'network-head' },
        h('p', { class: 'big network-name', text: net.name }),
        h('span', { class: `badge ${tone} network-state`, text: label })),
      facts([
        ['Fingerprint', h('code', { class: 'fingerprint', text: net.fingerprint || '—' })],
        ['This device', status?.peer_id ? idButton(status.peer_id) : undefined],
        ['Listening on', addrs.length
          ? h('ul', { class: 'addrs' }, addrs.map((a) => h('li', {}, h('code', { text: a }))))
          : (status ? h('span', { class: 'muted', text: 'Not listening' }) : undefined)],
      ]),
      h('p', { class: 'muted small', text: 'Devices that show the same fingerprint are in the same network.' }),
      actions);
  }

  function welcome() {
    return h('div', { class: 'welcome' },
      h('p', { class: 'big', text: 'Connect your devices' }),
      h('p', { class: 'muted', text: 'A network links this device with your others, privately: they keep copies of your vaults for each other, and nobody without an invite can join. Start one here, or join the one your other device already has.' }),
      h('div', { class: 'welcome-choices' },
        h('div', { class: 'choice' }, h('h3', { text: 'Create a network' }), createForm()),
        h('div', { class: 'choice' }, h('h3', { text: 'Join with an invite link' }), joinForm())));
  }

  function notConnected() {
    return h('div', { class: 'not-connected' },
      h('div', { class: 'network-head' },
        h('p', { class: 'big network-name', text: 'Not connected' }),
        h('span', { class: 'badge warn network-state', text: 'Disconnected' })),
      h('p', { class: 'muted', text: 'This device is in no network right now. Connect to one of your saved networks below, or create or join another.' }),
      h('details', { class: 'more-networks' },
        h('summary', { text: 'Create or join another network' }),
        h('div', { class: 'welcome-choices' },
          h('div', { class: 'choice' }, h('h3', { text: 'Create a network' }), createForm()),
          h('div', { class: 'choice' }, h('h3', { text: 'Join with an invite link' }), joinForm()))));
  }

  function createForm() {
    const name = field('Network name', { required: true, autocomplete: 'off', value: 'Home', maxLength: 64, id: 'network-name' });
    const submit = h('button', { type: 'submit', class: 'primary', text: 'Create network' });
    const actions = h('div', { class: 'actions' }, submit);
    const form = h('form', { id: 'create-network-form', class: 'stack' }, name.wrap, actions);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        try {
          const n = await api.post('/networks/create', { name: name.input.value.trim() });
          clearInlineError(actions);
          notify(`Network “${n.name}” created. Invite your other devices next.`);
          await load();
        } catch (err) {
          inlineError(actions, err);
        }
      });
    });
    return form;
  }

  function joinForm() {
    const url = field('Invite link', {
      required: true, autocomplete: 'off', spellcheck: false, placeholder: 'holdfast://join/…', id: 'join-url',
    }, 'Make one on a device already in the network: Network → Invite a device.');
    const submit = h('button', { type: 'submit', text: 'Join network' });
    const actions = h('div', { class: 'actions' }, submit);
    const form = h('form', { id: 'join-network-form', class: 'stack' }, url.wrap, actions);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      clearInlineError(actions);
      const value = url.input.value.trim();
      if (!value.startsWith('holdfast://join/')) {
        inlineError(actions, 'That is not an invite link: it starts with holdfast://join/.');
        url.input.focus();
        return;
      }
      busy(submit, async () => {
        try {
          const n = await api.post('/networks', { url: value });
          notify(`Joined “${n.name}”.`);
          await load();
        } catch (err) {
          inlineError(actions, err.status === 410 ? 'This invite has expired. Ask for a new one.'
            : err.status === 403 ? 'This invite was withdrawn by the network. Ask for a new one.' : err);
        }
      });
    });
    return form;
  }

  function inviteForm(net) {
    const ttl = h('select', { id: 'invite-ttl' },
      INVITE_TTLS.map(([label, secs]) => h('option', { value: secs, text: label })));
    ttl.value = '604800';
    const make = h('button', { type: 'submit', class: 'primary', text: 'Make invite link' });
    const close = h('button', { type: 'button', text: 'Close' });
    const out = h('div', { class: 'invite-out' });
    const actions = h('div', { class: 'actions' }, make, close);
    const form = h('form', { id: 'invite-form', class: 'stack' },
      h('h3', { text: `Invite a device to “${net.name}”` }),
      h('div', { class: 'field' }, h('label', { for: ttl.id, text: 'Valid for' }), ttl),
      actions);
    close.addEventListener('click', () => {
      invitePanel.hidden = true;
      invitePanel.replaceChildren();
      stateBody.querySelector('[data-action="invite"]')?.focus();
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(make, async () => {
        try {
          const inv = await api.get(`/networks/${encodeURIComponent(net.id)}/invite`, { ttl_s: ttl.value });
          clearInlineError(actions);
          fill(out, inviteResult(inv));
        } catch (err) {
          out.replaceChildren();
          inlineError(actions, err);
        }
      });
    });
    return [form, out];
  }

  function inviteResult(inv) {
    const input = h('input', { id: 'invite-url', type: 'text', readOnly: true, value: inv.url, spellcheck: false });
    const copy = h('button', { type: 'button', 'data-action': 'copy', text: 'Copy' });
    copy.addEventListener('click', async () => {
      if (await copyText(inv.url)) {
        notify('Invite link copied.');
      } else {
        input.select();
        notify('Select-all done: copy it with Ctrl+C (⌘C on a Mac).');
      }
    });
    input.addEventListener('focus', () => input.select());
    return h('div', { class: 'invite-result' },
      h('div', { class: 'field' },
        h('label', { for: input.id, text: 'Invite link' }),
        h('div', { class: 'input-group' }, input, copy)),
      h('figure', { class: 'qr-figure' },
        qrSvg(inv.url, 'QR code of the invite link'),
        h('figcaption', { class: 'muted small', text: 'Or scan this with the other device.' })),
      h('p', { class: 'muted small' },
        inv.expires_ms ? `Valid until ${fmt.when(inv.expires_ms)}. ` : '',
        'Anyone with this link can join your network: send it only to your own devices.'));
  }

  // ---- Saved networks ----
  function renderSaved() {
    const list = nets.networks || [];
    const key = JSON.stringify([list, nets.active_id, nets.state]);
    if (key === savedKey) return;
    savedKey = key;
    savedCard.hidden = list.length === 0;
    if (!list.length) return savedBody.replaceChildren();
    const rows = list.map((n) => {
      const isActive = n.id === nets.active_id;
      const buttons = [];
      if (!isActive || nets.state === 'offline') {
        const connect = h('button', { type: 'button', 'data-action': 'connect', text: 'Connect' });
        connect.addEventListener('click', () => busy(connect, async () => {
          try {
            await api.post(`/networks/${encodeURIComponent(n.id)}/connect`);
            notify(`Connecting to “${n.name}”…`);
            await load();
          } catch (err) {
            inlineError(connect, err);
          }
        }));
        buttons.push(connect);
      }
      const forget = h('button', { type: 'button', class: 'danger', 'data-action': 'forget', text: 'Forget' });
      forget.addEventListener('click', async () => {
        const ok = await confirmDialog(`Forget “${n.name}”? This device leaves it and forgets its key; you need a new invite to join again.`, 'Forget network');
        if (!ok) return;
        busy(forget, async () => {
          try {
            await api.del(`/networks/${encodeURIComponent(n.id)}`);
            notify(`Forgot “${n.name}”.`);
            await load();
          } catch (err) {
            inlineError(forget, err.status === 409 ? 'Disconnect from it first, then forget it.' : err);
          }
        });
      });
      buttons.push(forget);
      const [label] = isActive ? STATES[nets.state] || [nets.state] : ['Saved'];
      return h('tr', { 'data-id': n.id },
        h('th', { scope: 'row', text: n.name }),
        h('td', { 'data-label': 'Fingerprint' }, h('code', { text: n.fingerprint || '—' })),
        h('td', { 'data-label': 'State', text: label }),
        h('td', { 'data-label': 'Added', text: n.created_ms ? fmt.when(n.created_ms) : '—' }),
        h('td', { class: 'actions-cell' }, buttons));
    });
    fill(savedBody, h('div', { class: 'table-wrap' }, h('table', { class: 'table listy' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', text: 'Name' }), h('th', { scope: 'col', text: 'Fingerprint' }),
        h('th', { scope: 'col', text: 'State' }), h('th', { scope: 'col', text: 'Added' }),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
      h('tbody', {}, rows))));
  }

  // ---- Peers ----
  async function loadPeers() {
    let nodes;
    try {
      nodes = await api.get('/nodes');
    } catch (err) {
      if (err.status === 0) throw err;
      peerTable = null;
      fill(peersBody, h('p', { class: 'callout', role: 'alert', text: `The devices could not be listed: ${explain(err)}` }));
      return;
    }
    if (!ctx.alive()) return;
    const peers = nodes.filter((n) => !n.self)
      .sort((a, b) => (b.connected - a.connected) || peerName(a).localeCompare(peerName(b)));
    if (!peers.length) {
      peerTable = null;
      fill(peersBody, empty('No other devices yet. Invite one with “Invite a device” above.'));
      return;
    }
    if (!peerTable || !peerTable.isConnected) {
      peerTable = h('tbody');
      fill(peersBody, h('div', { class: 'table-wrap' }, h('table', { class: 'table listy peers' },
        h('thead', {}, h('tr', {},
          ['Device', 'Id', 'State', 'Can', 'Vaults', 'Up for'].map((t) => h('th', { scope: 'col', text: t })),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Speed test' })))),
        peerTable)));
    }
    syncList(peerTable, peers, (n) => n.node_id, peerRow, updatePeerRow);
  }

  function peerRow(n) {
    const test = h('button', { type: 'button', 'data-action': 'speedtest', text: 'Speed test' });
    const result = h('output', { class: 'speed-result', 'aria-live': 'polite' });
    const history = h('details', { class: 'speed-history', hidden: true },
      h('summary', { text: 'Earlier tests' }), h('ol', { class: 'small' }));
    test.addEventListener('click', () => busy(test, async () => {
      result.textContent = 'Testing…';
      try {
        const t = await api.post(`/network/speedtest/${encodeURIComponent(n.node_id)}`);
        clearInlineError(result);
        result.textContent = speedText(t);
        const past = await api.get(`/network/speedtest/${encodeURIComponent(n.node_id)}/history`).catch(() => []);
        history.hidden = !past.length;
        fill(history.querySelector('ol'), past.slice(0, 10).map((p) =>
          h('li', { text: `${fmt.clock(p.ts_ms)}: ${speedText(p)}` })));
      } catch (err) {
        result.textContent = '';
        inlineError(result, err.status === 404 ? 'That device is not connected now.'
          : err.status === 502 ? 'The test broke off. Try again.' : err);
      }
    }));
    const row = h('tr', { 'data-id': n.node_id },
      h('th', { scope: 'row', class: 'peer-name' }),
      h('td', { 'data-label': 'Id' }, idButton(n.node_id)),
      h('td', { 'data-label': 'State', class: 'peer-state' }),
      h('td', { 'data-label': 'Can', class: 'peer-caps' }),
      h('td', { 'data-label': 'Vaults', class: 'peer-vaults' }),
      h('td', { 'data-label': 'Up for', class: 'peer-uptime' }),
      h('td', { class: 'actions-cell speed-cell' }, test, result, history));
    updatePeerRow(row, n);
    return row;
  }

  function updatePeerRow(row, n) {
    fill(row.querySelector('.peer-name'), peerName(n),
      n.country ? h('span', { class: 'muted small', text: ` · ${n.country}` }) : null);
    fill(row.querySelector('.peer-state'),
      h('span', { class: ['dot', n.connected ? 'on' : 'off'], 'aria-hidden': 'true' }),
      n.connected ? 'Connected' : `Not connected${n.last_seen_ms ? ` (seen ${fmt.ago(n.last_seen_ms)})` : ''}`);
    row.querySelector('.peer-caps').textContent = (n.caps || []).join(', ') || '—';
    const vaults = (n.vaults || []).length;
    row.querySelector('.peer-vaults').textContent = String(vaults);
    row.querySelector('.peer-uptime').textContent = n.connected && n.uptime_ms ? fmt.duration(n.uptime_ms) : '—';
    row.querySelector('[data-action="speedtest"]').disabled = !n.connected;
  }

  // ---- Map and traffic ----
  async function loadMap() {
    try {
      const topo = await api.get('/network/topology');
      if (!ctx.alive()) return;
      fill(mapBody, topologySvg(topo));
    } catch (err) {
      if (err.status === 0) throw err;
      fill(mapBody, h('p', { class: 'callout', text: `The map could not be drawn: ${explain(err)}` }));
    }
  }

  async function loadTraffic() {
    try {
      const t = await api.get('/stats/throughput');
      if (!ctx.alive()) return;
      fill(trafficBody, sparkline(t));
    } catch (err) {
      if (err.status === 0) throw err;
      fill(trafficBody, h('p', { class: 'callout', text: `Traffic is not available: ${explain(err)}` }));
    }
  }

  const refresh = () => load().catch(() => {});
  ctx.subscribe(['peer_connected', 'peer_disconnected', 'network_changed'], refresh);
  ctx.every(refresh, 10_000);
  await load();
}

/** The network routes answer an error (or are missing): say so, offer a retry. */
function unavailable(err, ctx) {
  const text = err.status === 404
    ? 'This Holdfast cannot make or join networks yet: it does not offer the network service. Update Holdfast, then try again.'
    : `The network could not load: ${explain(err)}`;
  return h('div', { class: 'load-error callout network-unavailable', role: 'alert' },
    h('p', { text }),
    h('button', {
      type: 'button', text: 'Try again',
      on: { click: () => { if (ctx.alive()) window.dispatchEvent(new HashChangeEvent('hashchange')); } },
    }));
}
