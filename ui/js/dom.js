// Tiny helpers to build the page safely: elements are made with
// createElement and filled with textContent, never with HTML strings.

/**
 * h('button', {class: 'primary', 'data-action': 'deny', on: {click}}, 'Deny')
 * Attribute rules: `class`, `text`, `on` (event map), `data-*`/`aria-*`
 * (setAttribute), booleans (set as properties: disabled, hidden, checked…),
 * anything else as a property when the element has one, else an attribute.
 * Children: nodes, strings (as text), numbers, arrays, null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'on') for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'role' || key === 'for') {
      el.setAttribute(key, value === true ? '' : String(value));
    } else if (value === true) el[key] = true;
    else if (key in el) el[key] = value;
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/** Append children (see h) to el. */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace el's children (null/false skipped, strings as text). */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let nextId = 0;
/** A unique id for label/for pairs. */
export function uid(prefix = 'f') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled input: returns {wrap, input}. `hint` adds described-by text. */
export function field(label, attrs = {}, hint) {
  const id = attrs.id || uid();
  const input = h(attrs.tag || 'input', { ...attrs, tag: undefined, id });
  const hintEl = hint ? h('small', { class: 'hint', id: `${id}-hint`, text: hint }) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const wrap = h('div', { class: 'field' }, h('label', { for: id, text: label }), input, hintEl);
  return { wrap, input };
}

/** A checkbox with its label after it. */
export function checkbox(label, attrs = {}) {
  const id = attrs.id || uid();
  const input = h('input', { type: 'checkbox', ...attrs, id });
  const wrap = h('div', { class: 'check' }, input, h('label', { for: id, text: label }));
  return { wrap, input };
}

/** A section with a heading: returns the section (append to it). */
export function section(title, ...children) {
  const id = uid('s');
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id, text: title }), ...children);
}

/** The page title (h1), also used for the document title. */
export function pageTitle(view, text, ...extra) {
  document.title = `${text} · Holdfast`;
  const header = h('div', { class: 'page-head' }, h('h1', { text }), ...extra);
  view.append(header);
  return header;
}

/** A definition list from [term, value] pairs (values are text or nodes). */
export function facts(pairs) {
  const dl = h('dl', { class: 'facts' });
  for (const [term, value] of pairs) {
    if (value === undefined) continue;
    dl.append(h('dt', { text: term }), h('dd', {}, value));
  }
  return dl;
}

/**
 * Keep `container`'s children in step with `items`, keyed by `key(item)`:
 * new items are made with create(item), kept ones updated with
 * update(el, item), missing ones removed. Focus and timers on kept
 * elements survive a refresh. Elements carry their key in data-key.
 */
export function syncList(container, items, key, create, update) {
  const existing = new Map();
  for (const el of container.children) if (el.dataset.key) existing.set(el.dataset.key, el);
  let previous = null;
  for (const item of items) {
    const k = String(key(item));
    let el = existing.get(k);
    if (el) {
      existing.delete(k);
      if (update) update(el, item);
    } else {
      el = create(item);
      el.dataset.key = k;
    }
    const want = previous ? previous.nextSibling : container.firstChild;
    if (want !== el) container.insertBefore(el, want);
    previous = el;
  }
  for (const el of existing.values()) el.remove();
}

/** Ask a yes/no question in a modal dialog; resolves true on confirm. */
export function confirmDialog(message, confirmLabel = 'Confirm', { danger = true } = {}) {
  return new Promise((resolve) => {
    const titleId = uid('d');
    const cancel = h('button', { type: 'button', text: 'Cancel', value: 'cancel' });
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary', text: confirmLabel });
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': titleId },
      h('p', { id: titleId, text: message }),
      h('div', { class: 'actions' }, cancel, ok));
    let answer = false;
    cancel.addEventListener('click', () => dialog.close());
    ok.addEventListener('click', () => { answer = true; dialog.close(); });
    dialog.addEventListener('close', () => { dialog.remove(); resolve(answer); });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** Run an async action with the button disabled while it works. */
export async function busy(button, fn) {
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = wasDisabled;
    button.removeAttribute('aria-busy');
  }
}

/** An empty-state line. */
export function empty(text) {
  return h('p', { class: 'empty', text });
}

/**
 * A loading placeholder: `lines` grey bars, announced as busy. Replace it
 * with the content once it arrives (never show an empty-state text first).
 */
export function skeleton(lines = 3, label = 'Loading…') {
  const bars = Array.from({ length: lines }, (_, i) =>
    h('span', { class: ['skeleton-bar', i === lines - 1 && 'short'] }));
  return h('div', { class: 'skeleton', role: 'status', 'aria-busy': 'true' },
    h('span', { class: 'sr-only', text: label }), bars);
}

/**
 * Search as you type: `run` a moment after typing stops in `input`, and at
 * once when Escape clears it. Returns the clean-up that cancels a pending run.
 */
export function searchAsYouType(input, run, ms = 300) {
  let timer = null;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, ms);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && input.value) {
      e.preventDefault();
      input.value = '';
      clearTimeout(timer);
      run();
    }
  });
  return () => clearTimeout(timer);
}
