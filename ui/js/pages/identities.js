// Identities: the public names of your agents on the hub (`did:hub:<name>`,
// reachable as `<name>@<hub>`). Register one for an agent, see each with its
// trust tier, certify it (the checks and their results), read its DID
// document, and resolve any address the way other hubs and agents do.

import { api, hubApi } from '../api.js';
import { h, fill, field, checkbox, section, pageTitle, empty, skeleton } from '../dom.js';
import { notify } from '../alerts.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import { hubTabs } from '../hub-tabs.js';

const TIERS = {
  certified: ['Certified', 'ok'],
  unverified: ['Unverified', 'warn'],
};

const CHECK_NAMES = {
  device_active: 'The agent is active',
  identity_key_valid: 'Its identity key is a valid Ed25519 key',
  proof_of_possession: 'It proved it holds that key',
  key_package_published: 'It published encryption key packages',
  seen_recently: 'It connected in the last 7 days',
};

function tierBadge(tier) {
  const [text, kind] = TIERS[tier] || [tier, 'muted'];
  return h('span', { class: ['badge', kind], 'data-tier': tier, text });
}

export async function render(ctx) {
  pageTitle(ctx.view, 'Identities');
  ctx.view.append(hubTabs('identities'));

  const registerCard = section('Register an identity');
  registerCard.id = 'identities-register';
  const listCard = section('Your identities');
  listCard.id = 'identities-list';
  const list = h('div', { class: 'identity-list' }, skeleton(3, 'Loading identities…'));
  listCard.append(list);
  const resolveCard = section('Resolve an address');
  resolveCard.id = 'identities-resolve';
  ctx.view.append(listCard, registerCard, resolveCard);

  let identities = [];
  let agents = [];
  const results = new Map(); // hub_id → last certification answer
  const docs = new Map(); // hub_id → DID document shown

  async function load() {
    const [ids, devs] = await Promise.all([hubApi.get('/hub/identities'), api.get('/agents')]);
    if (!ctx.alive()) return;
    identities = ids;
    agents = devs;
    draw();
  }

  function draw() {
    drawRegister();
    if (!identities.length) {
      fill(list, empty('No identities yet. Register one below so other agents can find and reach this agent.'));
      return;
    }
    fill(list, ...identities.map(row));
  }

  function row(i) {
    const checks = h('div', { class: 'identity-checks' });
    const docBox = h('div', { class: 'identity-doc' });
    const result = results.get(i.id);
    if (result) checks.append(checkList(result));
    const doc = docs.get(i.id);
    if (doc) docBox.append(h('pre', { class: 'did-doc', tabIndex: 0, 'aria-label': `DID document of ${i.did}`, text: JSON.stringify(doc, null, 2) }));
    const certify = h('button', {
      type: 'button', class: 'secondary', text: 'Certify', 'data-action': 'certify',
      'aria-label': `Certify ${i.name}`,
      on: {
        click: async () => {
          certify.disabled = true;
          clearInlineError(certify);
          try {
            const answer = await hubApi.post(`/hub/identities/${i.id}/certify`);
            results.set(i.id, answer);
            notify(answer.certified ? `${i.name} is certified.` : `${i.name} did not pass every check.`);
            await load();
          } catch (err) {
            inlineError(certify, err);
          } finally {
            certify.disabled = false;
          }
        },
      },
    });
    const showDoc = h('button', {
      type: 'button', class: 'secondary', 'data-action': 'did-document',
      text: doc ? 'Hide DID document' : 'DID document', 'aria-expanded': doc ? 'true' : 'false',
      on: {
        click: async () => {
          if (docs.has(i.id)) {
            docs.delete(i.id);
            draw();
            return;
          }
          try {
            const full = await hubApi.get(`/hub/identities/${i.id}`);
            docs.set(i.id, full.did_document);
            draw();
          } catch (err) {
            inlineError(showDoc, err);
          }
        },
      },
    });
    return h('article', { class: 'identity', 'data-name': i.name },
      h('div', { class: 'identity-head' },
        h('h3', { text: i.display_name }),
        tierBadge(i.trust_tier),
        i.peer_reach_enabled ? h('span', { class: 'badge ok', text: 'May reach peers' }) : h('span', { class: 'badge muted', text: 'No peer reach' })),
      h('dl', { class: 'facts' },
        h('dt', { text: 'DID' }), h('dd', {}, h('code', { text: i.did })),
        h('dt', { text: 'Address' }), h('dd', {}, h('code', { class: 'hub-address', text: i.hub_address })),
        h('dt', { text: 'Hub id' }), h('dd', {}, h('code', { text: i.id }))),
      h('div', { class: 'actions' }, certify, showDoc),
      checks, docBox);
  }

  function checkList(answer) {
    return h('figure', { class: 'preview' },
      h('figcaption', { text: answer.certified ? 'Every check passed' : 'Certification needs every check to pass' }),
      h('ul', { class: 'check-results' }, ...answer.checks.map((c) => h('li', { 'data-passed': c.passed ? 'true' : 'false' },
        h('span', { class: ['badge', c.passed ? 'ok' : 'warn'], text: c.passed ? 'Passed' : 'Failed' }),
        h('span', { class: 'check-name', text: CHECK_NAMES[c.name] || c.name }),
        h('small', { class: 'muted', text: c.detail })))));
  }

  // ---- register
  const named = () => new Set(identities.map((i) => i.device_id));
  const deviceField = field('Agent', { tag: 'select', name: 'device_id', required: true });
  const nameField = field('Name', { name: 'name', required: true, maxLength: 32, autocomplete: 'off', pattern: '[a-zA-Z0-9][a-zA-Z0-9\\-]{1,30}[a-zA-Z0-9]' },
    '3–32 letters, digits or dashes; it becomes did:hub:<name>');
  const displayField = field('Display name (optional)', { name: 'display_name', maxLength: 80 });
  const reach = checkbox('Let this agent discover and reach other agents');
  const submit = h('button', { type: 'submit', text: 'Register' });
  const form = h('form', {
    class: 'stack', id: 'identity-form',
    on: {
      submit: async (e) => {
        e.preventDefault();
        clearInlineError(submit);
        submit.disabled = true;
        try {
          const made = await hubApi.post('/hub/identities', {
            device_id: deviceField.input.value,
            name: nameField.input.value.trim(),
            display_name: displayField.input.value.trim() || null,
            peer_reach_enabled: reach.input.checked,
          });
          notify(`Registered ${made.did}.`);
          form.reset();
          await load();
        } catch (err) {
          inlineError(submit, err);
        } finally {
          submit.disabled = false;
        }
      },
    },
  }, deviceField.wrap, nameField.wrap, displayField.wrap, reach.wrap, h('div', { class: 'actions' }, submit));
  const noAgents = empty('Every active agent already has an identity, or none is enrolled yet.');
  registerCard.append(h('p', { class: 'muted', text: 'An identity is how other agents and hubs name this agent. Its DID document carries the agent\u2019s own identity key.' }), noAgents, form);

  function drawRegister() {
    const have = named();
    const free = agents.filter((a) => a.status === 'ACTIVE' && !have.has(a.device_id));
    const keep = deviceField.input.value;
    fill(deviceField.input, ...free.map((a) => h('option', { value: a.device_id, text: `${a.name} (${a.fingerprint})` })));
    if (free.some((a) => a.device_id === keep)) deviceField.input.value = keep;
    form.hidden = free.length === 0;
    noAgents.hidden = free.length !== 0;
  }

  // ---- resolve
  const addrField = field('Hub address', { name: 'address', required: true, maxLength: 300, placeholder: 'name@hub.example.org', autocomplete: 'off' });
  const resolveBtn = h('button', { type: 'submit', class: 'secondary', text: 'Resolve' });
  const resolved = h('div', { class: 'resolved', 'aria-live': 'polite' });
  resolveCard.append(
    h('p', { class: 'muted', text: 'Anyone may resolve an address on this hub to its public DID document.' }),
    h('form', {
      class: 'inline-form', id: 'resolve-form',
      on: {
        submit: async (e) => {
          e.preventDefault();
          clearInlineError(resolveBtn);
          fill(resolved);
          try {
            const v = await hubApi.get(`/hub/resolve/${encodeURIComponent(addrField.input.value.trim())}`);
            fill(resolved,
              h('p', {}, h('strong', { text: v.display_name }), ' ', tierBadge(v.trust_tier)),
              h('pre', { class: 'did-doc', tabIndex: 0, 'aria-label': 'Resolved DID document', text: JSON.stringify(v.did_document, null, 2) }));
          } catch (err) {
            fill(resolved, h('p', { class: 'muted', text: err.status === 404 ? 'No identity answers to that address here.' : explain(err) }));
          }
        },
      },
    }, addrField.wrap, resolveBtn),
    resolved);

  try {
    await load();
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    fill(list, h('div', { class: 'load-error callout', role: 'alert' },
      h('p', { text: `Identities could not load: ${explain(err)}` }),
      h('button', { type: 'button', text: 'Try again', on: { click: () => load().catch(() => {}) } })));
    return;
  }
  ctx.subscribe(['agent_device'], () => load().catch(() => {}));
}
