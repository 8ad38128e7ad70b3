// Small dialogs of a vault page: rename or move a file (POST /move: a new
// version at the new path over the same blocks, the old path deleted and
// restorable) and name a new folder (client-side until a file lands in it).

import { api, encodePath } from '../api.js';
import { h, field, checkbox, busy } from '../dom.js';
import { inlineError, clearInlineError } from '../errors.js';
import * as fmt from '../format.js';

/**
 * A modal with one text field. submit(value, dialogParts) runs on OK; it
 * throws to keep the dialog open (the error is shown under the field).
 */
function askDialog({ id, title, label, value, hint, confirm, extra, submit, opener, suggestions }) {
  const titleId = `${id}-title`;
  const listId = suggestions?.length ? `${id}-suggestions` : undefined;
  const input = field(label, { id: `${id}-input`, value, required: true, autocomplete: 'off', spellcheck: false }, hint);
  // `list` is a read-only property: it is set as an attribute.
  if (listId) input.input.setAttribute('list', listId);
  if (listId) input.wrap.append(h('datalist', { id: listId }, suggestions.map((v) => h('option', { value: v }))));
  const cancel = h('button', { type: 'button', text: 'Cancel' });
  const ok = h('button', { type: 'submit', class: 'primary', text: confirm });
  const actions = h('div', { class: 'actions end' }, cancel, ok);
  const form = h('form', { class: 'stack', method: 'dialog' }, input.wrap, extra?.wrap, actions);
  const dialog = h('dialog', { id, class: 'ask-dialog', 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' }, h('h2', { id: titleId, text: title })), form);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    dialog.remove();
    opener?.focus();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(ok, async () => {
      clearInlineError(actions);
      try {
        await submit(input.input.value.trim(), { input: input.input, actions });
        dialog.close();
      } catch (err) {
        inlineError(actions, err);
      }
    });
  });
  document.body.append(dialog);
  dialog.showModal();
  input.input.focus();
  return { dialog, input: input.input };
}

/** The path a rename/move answer names: a bare name stays in its folder. */
export function targetPath(file, value) {
  if (value.includes('/')) return value.startsWith('/') ? value : `/${value}`;
  const folder = file.path.slice(0, file.path.length - fmt.baseName(file.path).length);
  return `${folder}${value}`;
}

/**
 * Rename or move `file`; onMoved(newFile) after it worked. `folders` (the
 * vault's folder prefixes) become suggestions: the name in each of them.
 */
export function renameDialog(vaultId, file, opener, onMoved, folders = []) {
  const replace = checkbox('Replace the file that is already there', { id: 'move-overwrite' });
  replace.wrap.hidden = true;
  const parts = askDialog({
    id: 'rename-dialog',
    title: `Rename or move ${fmt.baseName(file.path)}`,
    label: 'New name, or a path such as /Photos/2026/name.jpg to move it',
    value: fmt.baseName(file.path),
    hint: 'Its history stays; the old name is kept in Deleted files.',
    confirm: 'Rename',
    extra: replace,
    suggestions: folders.map((p) => `${p}${fmt.baseName(file.path)}`).filter((p) => p !== file.path),
    opener,
    async submit(value) {
      if (!value) throw new Error('Type a new name.');
      const to = targetPath(file, value);
      if (to === file.path) throw new Error('That is its name already.');
      try {
        const moved = await api.post(`/vaults/${encodeURIComponent(vaultId)}/move${encodePath(file.path)}`,
          { to, overwrite: replace.input.checked });
        onMoved(moved);
      } catch (err) {
        if (err.status === 409 && /already exists/.test(err.message)) {
          replace.wrap.hidden = false;
          throw new Error(`A file named ${fmt.baseName(to)} is already there. Tick “Replace” to put this one in its place (the other stays in its history), or choose another name.`);
        }
        throw err;
      }
    },
  });
  const dot = file.path.lastIndexOf('.');
  const name = fmt.baseName(file.path);
  if (dot > file.path.length - name.length) parts.input.setSelectionRange(0, name.lastIndexOf('.'));
}

/** Ask for a new folder's name; onFolder(prefix) with the new '/…/' prefix. */
export function newFolderDialog(prefix, opener, onFolder) {
  askDialog({
    id: 'folder-name-dialog',
    title: 'New folder',
    label: 'Folder name',
    value: '',
    hint: `It goes in ${prefix === '/' ? 'the top folder' : prefix}. Vaults keep no empty folders: it becomes real when a file lands in it.`,
    confirm: 'Create',
    opener,
    async submit(value) {
      const name = value.replace(/^\/+|\/+$/g, '');
      if (!name) throw new Error('Type a name for the folder.');
      if (name.split('/').some((s) => s === '.' || s === '..' || !s)) throw new Error('That name cannot be used for a folder.');
      if (/[\\\u0000-\u001f]/.test(name)) throw new Error('Folder names cannot hold backslashes or control characters.');
      onFolder(`${prefix}${name}/`);
    },
  });
}
