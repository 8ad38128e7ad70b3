// S3: the gateway that lets S3 clients (aws, rclone, backup tools) use your
// vaults as buckets. A switch starts and stops its listener; access keys
// are minted here (the secret is shown once, to copy), each with
// permissions per bucket (read, write, delete); and ready-to-paste client
// settings. Live: key and permission changes made elsewhere show up.

import { api } from '../api.js';
import { h, fill, field, section, pageTitle, facts, busy, empty, confirmDialog, uid } from '../dom.js';
import { notify } from '../alerts.js';
import { explain, inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';

const OPS = [['read', 'Read'], ['write', 'Write'], ['delete', 'Delete']];
const ALL = '*';
const SECRET_PLACEHOLDER = '<SECRET_ACCESS_KEY>';
const REGION = 'us-east-1';

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A Copy button for `text()`; without a clipboard it selects `select` instead. */
export function copyButton(text, what, select, attrs = {}) {
  return h('button', {
    type: 'button', text: 'Copy', 'aria-label': `Copy ${what}`, ...attrs,
    on: {
      click: async () => {
        if (await copyText(text())) {
          notify(`Copied the ${what}.`);
        } else if (select) {
          select.focus();
          if (select.select) select.select();
          else window.getSelection().selectAllChildren(select);
          notify('Selected: copy it with Ctrl+C (⌘C on a Mac).');
        }
      },
    },
  });
}

/** A read-only text field with a Copy button beside it. */
export function copyField(label, value, what, id) {
  const input = h('input', { id, type: 'text', readOnly: true, value, spellcheck: false, autocomplete: 'off' });
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'field' },
    h('label', { for: id, text: label }),
    h('div', { class: 'input-group' }, input, copyButton(() => input.value, what, input, { 'data-copy': id })));
}

function keyLabel(k) {
  return k.name || 'Unnamed key';
}

/** How a grant's bucket reads: the vault it names, `*`, or the raw name. */
function bucketLabel(bucket, buckets) {
  if (bucket === ALL) return 'All buckets (*)';
  const v = buckets.find((b) => b.alias === bucket || b.vault_id === bucket);
  if (!v) return `${bucket} (no such vault now)`;
  return v.alias ? `${v.name} (${v.alias})` : `${v.name} (by vault id)`;
}

/** The name S3 clients use for a vault: its alias, else its id. */
const bucketName = (b) => b.alias || b.vault_id;

export async function render(ctx) {
  pageTitle(ctx.view, 'S3 gateway');

  let data;
  try {
    data = await fetchAll();
  } catch (err) {
    if (err.status === 0 || err.status === 401 || !ctx.alive()) throw err;
    ctx.view.append(unavailable(err, ctx));
    return;
  }
  if (!ctx.alive()) return;

  // A key minted on this page: its secret, until the page is left.
  let minted = null;

  const listenerCard = section('Listener');
  listenerCard.id = 's3-listener';
  const listenerBody = h('div');
  listenerCard.append(
    h('p', { class: 'muted', text: 'S3 clients such as the aws command, rclone or backup tools reach your vaults as buckets at this address. Nothing listens while it is off; your keys and permissions stay.' }),
    listenerBody);

  const keysCard = section('Access keys');
  keysCard.id = 's3-keys';
  const newKeyPanel = h('div', { id: 's3-new-key', class: 'new-key', hidden: true });
  const keyList = h('div', { id: 's3-key-list', class: 's3-key-list' });
  const noKeys = empty('No access keys yet. Make one for each program or device that should use S3.');
  keysCard.append(
    h('p', { class: 'muted', text: 'Each S3 client signs its requests with a key. A new key can do nothing until you give it permissions on buckets below it.' }),
    mintForm(), newKeyPanel, noKeys, keyList);

  const connectCard = section('Connect a client');
  connectCard.id = 's3-connect';
  const connectBody = h('div');
  connectCard.append(connectBody);

  ctx.view.append(listenerCard, keysCard, connectCard);

  let listKey = null;
  let snippetKeyId = null;

  function draw() {
    renderListener();
    renderKeys();
    renderConnect();
  }

  async function load() {
    const next = await fetchAll();
    if (!ctx.alive()) return;
    data = next;
    draw();
  }
  const refresh = () => load().catch(() => {});

  // ---- Listener ----
  let listenerKey = null;
  function renderListener() {
    const st = data.listener;
    const key = JSON.stringify(st);
    if (key === listenerKey) return;
    listenerKey = key;
    const sw = h('input', {
      type: 'checkbox', role: 'switch', id: 's3-switch', class: 'switch', checked: st.enabled,
      'aria-describedby': 's3-switch-state',
    });
    const state = h('span', {
      id: 's3-switch-state', class: ['badge', st.enabled ? 'ok' : 'warn'], text: st.enabled ? 'On' : 'Off',
    });
    const row = h('div', { class: 'switch-row' },
      sw, h('label', { for: sw.id, text: 'Serve S3 on this device' }), state);
    sw.addEventListener('change', () => busy(sw, async () => {
      const want = sw.checked;
      try {
        data.listener = await api.put('/s3/listener', { enabled: want });
        clearInlineError(row);
        notify(want ? 'The S3 listener is on.' : 'The S3 listener is off.');
        draw();
        document.getElementById('s3-switch')?.focus();
      } catch (err) {
        sw.checked = !want;
        inlineError(row, err.status === 409
          ? `${explain(err)} Another program may use this port: change s3.bind in config.yaml, then restart Holdfast.`
          : err);
      }
    }));
    const endpoint = st.endpoint_url
      ? h('div', { class: 'input-group endpoint' },
        h('code', { id: 's3-endpoint', class: 'wrap', text: st.endpoint_url }),
        copyButton(() => st.endpoint_url, 'endpoint URL', null, { 'data-copy': 's3-endpoint' }))
      : h('span', { class: 'muted', text: 'Not listening' });
    fill(listenerBody, row, facts([
      ['Endpoint URL', endpoint],
      ['Address (s3.bind)', h('code', { text: st.bind })],
    ]));
  }

  // ---- Minting ----
  function mintForm() {
    const name = field('Name (optional)', {
      id: 's3-key-name', autocomplete: 'off', maxLength: 100, placeholder: 'e.g. laptop backups',
    }, 'Helps you tell keys apart later.');
    const submit = h('button', { type: 'submit', class: 'primary', text: 'New key' });
    const actions = h('div', { class: 'actions' }, submit);
    const form = h('form', { id: 's3-mint-form', class: 'stack mint-form' }, name.wrap, actions);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        try {
          const body = name.input.value.trim() ? { name: name.input.value.trim() } : {};
          const k = await api.post('/s3/keys', body);
          clearInlineError(actions);
          form.reset();
          minted = k;
          snippetKeyId = k.access_key_id;
          showMinted(k);
          await load();
          newKeyPanel.querySelector('#s3-new-secret')?.focus();
        } catch (err) {
          inlineError(actions, err);
        }
      });
    });
    return form;
  }

  function showMinted(k) {
    const titleId = uid('s');
    const done = h('button', { type: 'button', text: 'I saved it', 'data-action': 'hide-secret' });
    done.addEventListener('click', () => {
      newKeyPanel.hidden = true;
      newKeyPanel.replaceChildren();
      document.getElementById('s3-key-name')?.focus();
    });
    fill(newKeyPanel,
      h('h3', { id: titleId, text: `New key${k.name ? `: ${k.name}` : ''}` }),
      h('p', { class: 'callout secret-warning', role: 'note' },
        h('strong', { text: 'The secret is shown only once. ' }),
        'Copy it now and keep it somewhere safe: Holdfast cannot show it again. If you lose it, revoke the key and make a new one.'),
      copyField('Access key ID', k.access_key_id, 'access key ID', 's3-new-id'),
      copyField('Secret access key', k.secret_access_key, 'secret access key', 's3-new-secret'),
      h('p', { class: 'muted small', text: 'The client settings below include this secret until you leave this page.' }),
      h('div', { class: 'actions' }, done));
    newKeyPanel.setAttribute('aria-labelledby', titleId);
    newKeyPanel.hidden = false;
  }

  // ---- Keys and their permissions ----
  function renderKeys() {
    const key = JSON.stringify([data.keys, data.grants, data.buckets]);
    if (key === listKey) return;
    listKey = key;
    noKeys.hidden = data.keys.length > 0;
    // Keep focus on the same control across the redraw.
    const focused = keyList.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
    fill(keyList, data.keys.map(keyItem));
    if (focused) focusOn(focused);
  }

  /** Focus the control of the key list marked data-focus=`name`, if drawn. */
  function focusOn(name) {
    const el = [...keyList.querySelectorAll('[data-focus]')].find((e) => e.dataset.focus === name);
    if (el) el.focus();
  }

  function keyItem(k) {
    const id = k.access_key_id;
    const titleId = uid('k');
    const revoke = h('button', { type: 'button', class: 'danger', 'data-action': 'revoke', 'data-focus': `${id}|revoke`, text: 'Revoke' });
    const head = h('div', { class: 's3-key-head' },
      h('div', { class: 'row-main' },
        h('h3', { id: titleId, text: keyLabel(k) }),
        h('code', { class: 'key-id', text: id }),
        h('div', { class: 'muted small', text: `Made ${fmt.when(k.created_ms)} · ${k.last_used_ms ? `last used ${fmt.ago(k.last_used_ms)}` : 'never used'}` })),
      h('div', { class: 'row-actions' }, revoke));
    revoke.addEventListener('click', async () => {
      const ok = await confirmDialog(`Revoke “${keyLabel(k)}” (${id})? Clients using it stop working at once, and its permissions go too. This cannot be undone.`, 'Revoke key');
      if (!ok) return;
      await busy(revoke, async () => {
        try {
          await api.del(`/s3/keys/${encodeURIComponent(id)}`);
          if (minted && minted.access_key_id === id) {
            minted = null;
            newKeyPanel.hidden = true;
            newKeyPanel.replaceChildren();
          }
          if (snippetKeyId === id) snippetKeyId = null;
          notify(`Key “${keyLabel(k)}” revoked.`);
          await load();
          document.getElementById('s3-key-name')?.focus();
        } catch (err) {
          inlineError(head, err);
        }
      });
    });
    const grants = data.grants.filter((g) => g.key_id === id);
    return h('article', { class: 's3-key', 'data-key': id, 'aria-labelledby': titleId },
      head, grantsTable(k, grants));
  }

  function opBoxes(ops, bucketText, focusPrefix) {
    return OPS.map(([op, label]) => {
      const input = h('input', {
        type: 'checkbox', value: op, checked: ops.includes(op), 'data-focus': `${focusPrefix}|${op}`,
        'aria-label': `${label}: ${bucketText}`,
      });
      return h('td', { class: 'op' }, h('label', { class: 'op-check' }, input, h('span', { class: 'op-name', 'aria-hidden': 'true', text: label })));
    });
  }

  const checkedOps = (row) => [...row.querySelectorAll('td.op input:checked')].map((i) => i.value);

  function grantsTable(k, grants) {
    const id = k.access_key_id;
    const rows = grants.map((g) => {
      const label = bucketLabel(g.bucket, data.buckets);
      const remove = h('button', { type: 'button', 'data-action': 'remove-grant', 'data-focus': `${id}|${g.bucket}|remove`, text: 'Remove', 'aria-label': `Remove the permission on ${label}` });
      const row = h('tr', { 'data-bucket': g.bucket },
        h('th', { scope: 'row', class: 'bucket' }, label),
        opBoxes(g.ops, label, `${id}|${g.bucket}`),
        h('td', { class: 'actions-cell' }, remove));
      for (const box of row.querySelectorAll('td.op input')) {
        box.addEventListener('change', async () => {
          const ops = checkedOps(row);
          if (!ops.length) {
            box.checked = true;
            inlineError(table, 'A permission needs at least one of read, write or delete. To take it away, use Remove.');
            return;
          }
          // One change at a time: the row waits until it is redrawn.
          const boxes = [...row.querySelectorAll('td.op input')];
          for (const b of boxes) b.disabled = true;
          try {
            await api.put('/s3/permissions', { key_id: id, bucket: g.bucket, ops });
            clearInlineError(table);
            await load();
            focusOn(box.dataset.focus);
          } catch (err) {
            box.checked = !box.checked;
            inlineError(table, err);
          } finally {
            for (const b of boxes) b.disabled = false;
          }
        });
      }
      remove.addEventListener('click', () => busy(remove, async () => {
        try {
          await api.del('/s3/permissions', { body: { key_id: id, bucket: g.bucket } });
          clearInlineError(table);
          notify(`Permission on ${label} removed.`);
          await load();
          focusOn(`${id}|bucket`);
        } catch (err) {
          inlineError(table, err);
        }
      }));
      return row;
    });

    // The row that adds a permission.
    const select = h('select', { id: uid('bucket'), 'data-focus': `${id}|bucket`, 'aria-label': `Bucket to give ${keyLabel(k)} access to` },
      h('option', { value: ALL, text: 'All buckets (*)' }),
      data.buckets.map((b) => h('option', { value: bucketName(b), text: b.alias ? `${b.name} (${b.alias})` : `${b.name} (by vault id)` })));
    const add = h('button', { type: 'button', class: 'primary', 'data-action': 'add-grant', 'data-focus': `${id}|add`, text: 'Add' });
    const addRow = h('tr', { class: 'add-row' },
      h('td', { class: 'bucket' }, select),
      opBoxes(['read'], 'new permission', `${id}|new`),
      h('td', { class: 'actions-cell' }, add));
    add.addEventListener('click', () => busy(add, async () => {
      const ops = checkedOps(addRow);
      if (!ops.length) {
        inlineError(table, 'Tick at least one of read, write or delete.');
        return;
      }
      const bucket = select.value;
      try {
        await api.put('/s3/permissions', { key_id: id, bucket, ops });
        clearInlineError(table);
        notify(`“${keyLabel(k)}” may now ${ops.join(', ')} on ${bucketLabel(bucket, data.buckets)}.`);
        await load();
        focusOn(`${id}|add`);
      } catch (err) {
        inlineError(table, err);
      }
    }));

    const table = h('div', { class: 'table-wrap grants-wrap' },
      h('table', { class: 'table s3-grants' },
        h('caption', { class: 'sr-only', text: `Permissions of ${keyLabel(k)}` }),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: 'Bucket' }),
          OPS.map(([, label]) => h('th', { scope: 'col', class: 'op', text: label })),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
        h('tbody', {}, rows),
        h('tfoot', {}, addRow)));
    return [
      grants.length ? null : h('p', { class: 'muted small no-grants', text: 'No permissions yet: this key can do nothing. Add one below.' }),
      table,
      data.buckets.length ? null : h('p', { class: 'muted small', text: 'You have no vaults yet; make one under Vaults to offer it as a bucket.' }),
    ];
  }

  // ---- Client settings ----
  let connectKey = null;
  function renderConnect() {
    const keys = data.keys;
    if (snippetKeyId && !keys.some((k) => k.access_key_id === snippetKeyId)) snippetKeyId = null;
    if (!snippetKeyId && keys.length) snippetKeyId = keys[keys.length - 1].access_key_id;
    const key = JSON.stringify([keys, data.listener, snippetKeyId, minted && minted.access_key_id]);
    if (key === connectKey) return;
    connectKey = key;
    if (!keys.length) {
      fill(connectBody, empty('Make an access key first: the settings to paste appear here.'));
      return;
    }
    const st = data.listener;
    const endpoint = st.endpoint_url || `http://${st.bind}`;
    const keyId = snippetKeyId;
    const secret = minted && minted.access_key_id === keyId ? minted.secret_access_key : SECRET_PLACEHOLDER;
    const choose = h('select', { id: 's3-snippet-key' },
      keys.map((k) => h('option', { value: k.access_key_id, text: `${keyLabel(k)} (${k.access_key_id})` })));
    choose.value = keyId;
    choose.addEventListener('change', () => {
      snippetKeyId = choose.value;
      renderConnect();
      document.getElementById('s3-snippet-key')?.focus();
    });
    const aws = [
      `aws configure set aws_access_key_id ${keyId} --profile holdfast`,
      `aws configure set aws_secret_access_key ${secret} --profile holdfast`,
      `aws configure set region ${REGION} --profile holdfast`,
      `aws --profile holdfast --endpoint-url ${endpoint} s3 ls`,
    ].join('\n');
    const rclone = [
      '[holdfast]',
      'type = s3',
      'provider = Other',
      `endpoint = ${endpoint}`,
      `access_key_id = ${keyId}`,
      `secret_access_key = ${secret}`,
      'force_path_style = true',
    ].join('\n');
    fill(connectBody,
      h('div', { class: 'field inline' }, h('label', { for: choose.id, text: 'Key' }), choose),
      st.enabled ? null : h('p', { class: 'callout', text: 'The listener is off: switch it on above, or these settings cannot connect.' }),
      secret === SECRET_PLACEHOLDER
        ? h('p', { class: 'muted small', text: `Replace ${SECRET_PLACEHOLDER} with the secret you saved when you made this key.` })
        : h('p', { class: 'muted small', text: 'These include the secret of the key you just made: keep them private.' }),
      snippet('AWS CLI', 'Paste into a terminal.', aws, 's3-aws'),
      snippet('rclone', 'Add to rclone.conf (rclone config file shows where it is), then: rclone lsd holdfast:', rclone, 's3-rclone'));
  }

  function snippet(title, hint, text, id) {
    const pre = h('pre', { id, class: 'snippet', tabIndex: 0, 'aria-label': `${title} settings` }, h('code', { text }));
    return h('div', { class: 'snippet-block' },
      h('div', { class: 'snippet-head' },
        h('h3', { text: title }),
        copyButton(() => text, `${title} settings`, pre, { 'data-copy': id })),
      h('p', { class: 'muted small', text: hint }),
      pre);
  }

  draw();
  ctx.subscribe(['audit'], (e) => {
    if (/^s3_/.test(e.audit_type || '')) refresh();
  });
  ctx.every(refresh, 15_000);
}

async function fetchAll() {
  const [listener, keys, grants, buckets] = await Promise.all([
    api.get('/s3/listener'),
    api.get('/s3/keys'),
    api.get('/s3/permissions'),
    api.get('/s3/buckets'),
  ]);
  return { listener, keys, grants, buckets };
}

/** The S3 routes answer an error (or are missing): say so, offer a retry. */
function unavailable(err, ctx) {
  const text = err.status === 404
    ? 'This Holdfast does not offer the S3 gateway. Update Holdfast, then try again.'
    : `The S3 settings could not load: ${explain(err)}`;
  return h('div', { class: 'load-error callout s3-unavailable', role: 'alert' },
    h('p', { text }),
    h('button', {
      type: 'button', text: 'Try again',
      on: { click: () => { if (ctx.alive()) window.dispatchEvent(new HashChangeEvent('hashchange')); } },
    }));
}
