// Settings → Media lookups: the AcoustID and TMDB API keys (shown only
// masked; typing a new one replaces it, "Remove" clears it), their service
// URLs under "Advanced", and whether audio fingerprints are computed.
// Lookups run only while a key is set; the workers pick changes up at once.

import { api } from './api.js';
import { h, field, checkbox, section, busy, skeleton } from './dom.js';
import { notify } from './alerts.js';
import { inlineError, clearInlineError, explain } from './errors.js';

const SERVICES = [
  { id: 'acoustid', name: 'AcoustID', what: 'identifies songs from their audio fingerprint',
    key: 'Application API key', url: 'https://acoustid.org/new-application' },
  { id: 'tmdb', name: 'TMDB', what: 'finds films’ and shows’ titles, plots and posters',
    key: 'API key or read access token', url: 'https://www.themoviedb.org/settings/api' },
];

export function enrichmentSection() {
  const body = h('div', { class: 'stack', id: 'enrichment' }, skeleton(3, 'Loading lookup settings…'));
  const card = section('Media lookups', body);
  load(body);
  return card;
}

async function load(body) {
  let settings;
  try {
    settings = await api.get('/settings');
  } catch (err) {
    const retry = h('button', { type: 'button', text: 'Try again' });
    retry.addEventListener('click', () => { body.replaceChildren(skeleton(3, 'Loading lookup settings…')); load(body); });
    body.replaceChildren(h('div', { class: 'load-error callout', role: 'alert' },
      h('p', { text: `The lookup settings could not load: ${explain(err)}` }), retry));
    return;
  }
  body.replaceChildren(form(settings, body));
}

function form(settings, body) {
  const inputs = {};
  const rows = SERVICES.map((s) => {
    const isSet = settings[`${s.id}_api_key_set`];
    const key = field(s.key, {
      type: 'password', autocomplete: 'off', spellcheck: false, 'data-setting': `${s.id}_api_key`,
      placeholder: isSet ? `Saved (${settings[`${s.id}_api_key`]})` : 'Not set',
    }, isSet ? `${s.name} ${s.what}. Type a new key to replace the saved one.`
      : `${s.name} ${s.what}. Without a key, Holdfast never asks it and says so.`);
    const url = field(`${s.name} service URL`, { type: 'url', value: settings[`${s.id}_base_url`], 'data-setting': `${s.id}_base_url` });
    inputs[`${s.id}_api_key`] = key.input;
    inputs[`${s.id}_base_url`] = url.input;
    const remove = h('button', { type: 'button', text: `Remove ${s.name} key`, 'data-action': `remove-${s.id}` });
    remove.hidden = !isSet;
    remove.addEventListener('click', () => busy(remove, () => save({ [`${s.id}_api_key`]: null }, body, `${s.name} key removed.`)));
    return h('fieldset', { class: 'stack' },
      h('legend', { text: s.name }),
      key.wrap,
      h('p', { class: 'muted' }, 'Get one at ', h('a', { href: s.url, target: '_blank', rel: 'noopener noreferrer', text: s.url.replace('https://', '') }), '.'),
      h('details', {}, h('summary', { text: 'Advanced' }), url.wrap),
      h('div', { class: 'actions' }, remove));
  });
  const fp = checkbox('Compute audio fingerprints (needed for AcoustID)', { checked: settings.fingerprint_audio, 'data-setting': 'fingerprint_audio' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Save lookups' });
  const actions = h('div', { class: 'actions' }, submit);
  const f = h('form', { class: 'stack', id: 'enrichment-form' },
    h('p', { class: 'muted', text: 'Tags, covers and fingerprints are read on this device. Online lookups are optional.' }),
    ...rows, fp.wrap, actions);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const patch = {};
    for (const [name, input] of Object.entries(inputs)) {
      const v = input.value.trim();
      if (name.endsWith('_api_key')) { if (v) patch[name] = v; } else if (v !== settings[name]) patch[name] = v;
    }
    if (fp.input.checked !== settings.fingerprint_audio) patch.fingerprint_audio = fp.input.checked;
    if (!Object.keys(patch).length) { notify('Nothing to save.'); return; }
    busy(submit, () => save(patch, body, 'Lookups saved.', actions));
  });
  return f;
}

/** The field names the API's messages start with, as the form labels them. */
const LABELS = {
  acoustid_api_key: 'AcoustID key', acoustid_base_url: 'AcoustID service URL',
  tmdb_api_key: 'TMDB key', tmdb_base_url: 'TMDB service URL',
};

async function save(patch, body, message, where) {
  try {
    const next = await api.put('/settings', patch);
    body.replaceChildren(form(next, body));
    notify(message);
  } catch (err) {
    const raw = err.message || '';
    const name = Object.keys(LABELS).find((n) => raw.startsWith(`${n}:`));
    const shown = name ? { status: err.status, body: err.body, message: LABELS[name] + raw.slice(name.length) } : err;
    if (where) { clearInlineError(where); inlineError(where, shown); } else inlineError(body, shown);
  }
}
