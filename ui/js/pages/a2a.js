// A2A channels: encrypted channels between your agents (and, under a
// federation agreement, agents on another Holdfast hub). Requests wait for
// your approval here and in the approvals queue; each channel lists its
// participants. Federation agreements with other hubs are made, listed and
// accepted below. Live: channel, federation and approval events refresh it.

import { hubApi } from '../api.js';
import { h, fill, field, section, pageTitle, empty, skeleton } from '../dom.js';
import { notify } from '../alerts.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import { hubTabs } from '../hub-tabs.js';

const STATUS = {
  pending: ['Waiting for approval', 'warn'],
  active: ['Active', 'ok'],
  rejected: ['Denied', 'muted'],
  invited: ['Invited', 'warn'],
  left: ['Left', 'muted'],
  removed: ['Removed', 'muted'],
  accepted: ['Accepted', 'ok'],
};

function badge(status) {
  const [text, kind] = STATUS[status] || [status, 'muted'];
  return h('span', { class: ['badge', kind], 'data-status': status, text });
}

export async function render(ctx) {
  pageTitle(ctx.view, 'A2A channels');
  ctx.view.append(hubTabs('a2a'));

  const pendingCard = section('Waiting for your approval');
  pendingCard.id = 'a2a-pending';
  const pendingList = h('div', { class: 'channel-list' });
  pendingCard.append(pendingList);
  const channelsCard = section('Channels');
  channelsCard.id = 'a2a-channels';
  const channelList = h('div', { class: 'channel-list' }, skeleton(3, 'Loading channels…'));
  channelsCard.append(channelList);
  const requestCard = section('Open a channel');
  requestCard.id = 'a2a-request';
  const fedCard = section('Federation with other hubs');
  fedCard.id = 'a2a-federation';
  const fedList = h('div', { class: 'agreement-list' });
  ctx.view.append(pendingCard, channelsCard, requestCard, fedCard);

  let channels = [];
  let identities = [];
  let agreements = [];

  async function load() {
    const [c, i, a] = await Promise.all([
      hubApi.get('/a2a/channels'),
      hubApi.get('/hub/identities'),
      hubApi.get('/federation/agreements'),
    ]);
    if (!ctx.alive()) return;
    channels = c;
    identities = i;
    agreements = a;
    draw();
  }
  const refresh = () => load().catch(() => {});

  function draw() {
    const pending = channels.filter((c) => c.status === 'pending');
    const rest = channels.filter((c) => c.status !== 'pending');
    pendingCard.hidden = pending.length === 0;
    fill(pendingList, ...pending.map(channelRow));
    fill(channelList, ...(rest.length ? rest.map(channelRow)
      : [empty('No channels yet. Agents ask for one, or open one below.')]));
    drawRequest();
    drawFederation();
  }

  function channelRow(c) {
    const approve = c.status === 'pending' ? h('button', {
      type: 'button', text: 'Approve', 'data-action': 'approve',
      'aria-label': `Approve the channel ${c.topic || c.channel_id}`,
      on: {
        click: async () => {
          approve.disabled = true;
          clearInlineError(approve);
          try {
            await hubApi.post(`/a2a/channels/${c.channel_id}/approve`);
            notify('Channel approved.');
            await load();
          } catch (err) {
            inlineError(approve, err);
            approve.disabled = false;
          }
        },
      },
    }) : null;
    return h('article', { class: 'channel', 'data-channel': c.channel_id },
      h('div', { class: 'channel-head' },
        h('h3', { text: c.topic || 'Untitled channel' }), badge(c.status),
        c.agreement_id ? h('span', { class: 'badge muted', text: 'Across hubs' }) : null),
      h('ul', { class: 'participants', 'aria-label': 'Participants' },
        ...c.participants.map((p) => h('li', {},
          h('code', { class: 'hub-address', text: p.hub_address }),
          h('span', { class: 'muted', text: p.role === 'creator' ? 'asked' : 'invited' }),
          badge(p.status),
          p.remote ? h('span', { class: 'badge muted', text: 'Other hub' }) : null))),
      approve ? h('div', { class: 'actions' }, approve) : null);
  }

  // ---- request
  const fromField = field('From', { tag: 'select', name: 'from' });
  const peerField = field('To (hub address)', { name: 'peer', required: true, maxLength: 300, placeholder: 'name or name@hub.example.org', autocomplete: 'off' });
  const topicField = field('Topic (optional)', { name: 'topic', maxLength: 80 });
  const submit = h('button', { type: 'submit', text: 'Request channel' });
  const form = h('form', {
    class: 'stack', id: 'a2a-form',
    on: {
      submit: async (e) => {
        e.preventDefault();
        clearInlineError(submit);
        submit.disabled = true;
        try {
          await hubApi.post('/a2a/channels/request', {
            from_hub_address: fromField.input.value,
            peer_hub_address: peerField.input.value.trim(),
            topic: topicField.input.value.trim() || null,
          });
          notify('Channel requested: approve it above or in Approvals.');
          form.reset();
          await load();
        } catch (err) {
          inlineError(submit, err);
        } finally {
          submit.disabled = false;
        }
      },
    },
  }, fromField.wrap, peerField.wrap, topicField.wrap, h('div', { class: 'actions' }, submit));
  const noIdentities = empty('Register an identity for an agent on the Identities page first.');
  requestCard.append(noIdentities, form);

  function drawRequest() {
    const keep = fromField.input.value;
    fill(fromField.input, ...identities.map((i) => h('option', { value: i.hub_address, text: `${i.display_name} (${i.hub_address})` })));
    if (identities.some((i) => i.hub_address === keep)) fromField.input.value = keep;
    form.hidden = identities.length === 0;
    noIdentities.hidden = identities.length !== 0;
  }

  // ---- federation
  const urlField = field('Other hub\u2019s URL', { name: 'peer_url', type: 'url', required: true, maxLength: 300, placeholder: 'https://hub.example.org' });
  const offer = h('button', { type: 'submit', class: 'secondary', text: 'Offer agreement' });
  fedCard.append(
    h('p', { class: 'muted', text: 'Under an accepted agreement, your agents may open channels with agents on the other hub. Its owner accepts your offer on their hub.' }),
    fedList,
    h('form', {
      class: 'inline-form', id: 'federation-form',
      on: {
        submit: async (e) => {
          e.preventDefault();
          clearInlineError(offer);
          offer.disabled = true;
          try {
            await hubApi.post('/federation/agreements', { peer_url: urlField.input.value.trim() });
            notify('Offer sent. It waits for the other hub\u2019s owner.');
            urlField.input.value = '';
            await load();
          } catch (err) {
            inlineError(offer, err);
          } finally {
            offer.disabled = false;
          }
        },
      },
    }, urlField.wrap, offer));

  function drawFederation() {
    if (!agreements.length) {
      fill(fedList, empty('No agreements with other hubs.'));
      return;
    }
    fill(fedList, ...agreements.map((a) => {
      const accept = a.direction === 'inbound' && a.status === 'pending' ? h('button', {
        type: 'button', text: 'Accept', 'aria-label': `Accept the agreement with ${a.peer_host}`,
        on: {
          click: async () => {
            accept.disabled = true;
            try {
              await hubApi.post(`/federation/agreements/${a.id}/accept`);
              notify(`Agreement with ${a.peer_host} accepted.`);
              await load();
            } catch (err) {
              inlineError(accept, err);
              accept.disabled = false;
            }
          },
        },
      }) : null;
      return h('article', { class: 'agreement', 'data-agreement': a.id },
        h('code', { text: a.peer_host }),
        h('span', { class: 'muted', text: a.direction === 'inbound' ? 'offered to you' : 'offered by you' }),
        badge(a.status), accept);
    }));
  }

  try {
    await load();
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    fill(channelList, h('div', { class: 'load-error callout', role: 'alert' },
      h('p', { text: `Channels could not load: ${explain(err)}` }),
      h('button', { type: 'button', text: 'Try again', on: { click: refresh } })));
    return;
  }
  ctx.subscribe(['a2a_channel', 'hub_federation', 'approval_requested', 'approval_resolved'], refresh);
}
