// Selecting media in the grid and acting on all of them at once: delete, label, share, download
// (one archive, or each original on its own), with a summary of what happened to each.

import { h } from './dom.js';
import { formatTime } from './format.js';
import { confirmDialog, copyText, notice } from './ui.js';
import { uniqueNames, zipParts } from './zip.js';

/** The most an archive made in the page holds; larger selections download one by one. */
export const MAX_ARCHIVE_BYTES = 500 * 1000 * 1000;
const SHARE_TTL_SECONDS = 86400;

/**
 * A selection of media ids: click toggles one, shift-click selects the range from the last
 * clicked one (in the order shown), a day's button selects the whole day.
 */
export function createSelection(onChange) {
  const ids = new Set();
  let anchor = null;
  const changed = () => onChange([...ids]);
  return {
    has: (id) => ids.has(id),
    get size() {
      return ids.size;
    },
    ids: () => [...ids],
    /** Toggle `id`; with `range`, set every id between the anchor and it (inclusive) to its new state. */
    toggle(id, { range = false, order = [] } = {}) {
      const on = !ids.has(id);
      const from = order.indexOf(anchor);
      const to = order.indexOf(id);
      if (range && from >= 0 && to >= 0) {
        const [a, b] = from < to ? [from, to] : [to, from];
        for (const each of order.slice(a, b + 1)) {
          if (on) ids.add(each);
          else ids.delete(each);
        }
      } else if (on) ids.add(id);
      else ids.delete(id);
      anchor = id;
      changed();
    },
    /** Select all of `day` (or clear it when it is all selected already). */
    toggleAll(day) {
      const all = day.every((id) => ids.has(id));
      for (const id of day) {
        if (all) ids.delete(id);
        else ids.add(id);
      }
      changed();
    },
    /** Forget ids no longer shown. */
    keep(shown) {
      let dropped = false;
      for (const id of ids) if (!shown.has(id)) dropped = ids.delete(id) || dropped;
      if (dropped) changed();
    },
    clear() {
      ids.clear();
      anchor = null;
      changed();
    },
  };
}

/**
 * Run `action` on each item, one after another: `[{item, ok, text, link}]`. The action answers
 * a sentence, or `{text, link}` (a node shown beside it).
 */
export async function runEach(items, action) {
  const results = [];
  for (const item of items) {
    try {
      const answer = await action(item);
      const text = typeof answer === 'string' ? answer : answer?.text || 'done';
      results.push({ item, ok: true, text, link: typeof answer === 'object' ? answer.link : null });
    } catch (error) {
      results.push({ item, ok: false, text: `${error.code || 'error'}: ${error.message}` });
    }
  }
  return results;
}

function nameOf(item) {
  return item.original_filename || `${item.camera_id} ${item.kind} ${formatTime(item.captured_at)}`;
}

/** The per-item summary of a bulk action, in a dialog that keeps focus until closed. */
export function showSummary(title, results) {
  const failed = results.filter((r) => !r.ok).length;
  const dialog = h(
    'dialog',
    { class: 'confirm summary', 'aria-labelledby': 'summary-title' },
    h('h2', { id: 'summary-title' }, title),
    h('p', { role: 'status' }, failed ? `${results.length - failed} of ${results.length} done, ${failed} failed.` : `All ${results.length} done.`),
    h(
      'ul',
      { class: 'summary-list', 'aria-label': 'What happened to each' },
      results.map((r) =>
        h('li', { class: r.ok ? 'ok' : 'failed', dataset: { id: r.item.id } },
          h('span', { class: 'summary-name' }, nameOf(r.item)), ' — ',
          h('span', { class: 'summary-text' }, r.text),
          r.link && [' ', r.link]),
      ),
    ),
    h('form', { method: 'dialog', class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Close')),
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

function askLabel() {
  return new Promise((resolve) => {
    const input = h('input', { type: 'text', maxlength: 64, required: true, 'aria-label': 'Label to add' });
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'label-title' },
      h('h2', { id: 'label-title' }, 'Add a label'),
      h('form', { method: 'dialog' },
        h('p', null, input),
        h('div', { class: 'actions' },
          h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel'),
          h('button', { type: 'submit', value: 'add', class: 'primary' }, 'Add label'))),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'add' ? input.value.trim() : null);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/**
 * The selection bar: what is selected and the actions on it.
 * @param {{api: any, selection: ReturnType<typeof createSelection>, itemsOf: (ids: string[]) => object[],
 *   onDeleted: (id: string) => void, onChanged: (media: object) => void}} deps
 */
export function createBulkBar({ api, selection, itemsOf, onDeleted, onChanged }) {
  const count = h('span', { class: 'selected-count', role: 'status' });
  const busy = (button, run) => async () => {
    const items = itemsOf(selection.ids());
    if (!items.length) return;
    for (const b of el.querySelectorAll('button')) b.disabled = true;
    try {
      await run(items);
    } finally {
      for (const b of el.querySelectorAll('button')) b.disabled = false;
    }
  };
  const button = (label, run, extra = {}) => {
    const b = h('button', { type: 'button', ...extra }, label);
    b.addEventListener('click', busy(b, run));
    return b;
  };

  async function remove(items) {
    const ok = await confirmDialog({
      title: `Delete ${items.length} media?`,
      body: 'Their bytes, renditions and share links stop working; this cannot be undone.',
      confirm: `Delete ${items.length}`,
    });
    if (!ok) return;
    const results = await runEach(items, async (item) => {
      await api.remove(item.id);
      onDeleted(item.id);
      return 'deleted';
    });
    selection.clear();
    showSummary('Delete', results);
  }

  async function label(items) {
    const value = await askLabel();
    if (!value) return;
    const results = await runEach(items, async (item) => {
      const { media, etag } = await api.media(item.id);
      if ((media.labels || []).includes(value)) return `already #${value}`;
      const saved = await api.patch(item.id, { labels: [...(media.labels || []), value] }, etag);
      onChanged(saved.media);
      return `labelled #${value}`;
    });
    showSummary(`Label #${value}`, results);
  }

  async function share(items) {
    const results = await runEach(items, async (item) => {
      const made = await api.createShare(item.id, SHARE_TTL_SECONDS);
      const link = h(
        'button',
        { type: 'button', dataset: { url: made.url }, onclick: async () => notice((await copyText(made.url)) ? 'Link copied.' : made.url) },
        'Copy link',
      );
      return { text: `link until ${formatTime(made.expires_at)}`, link };
    });
    showSummary('Share links (1 day)', results);
  }

  async function archive(items) {
    const total = items.reduce((sum, i) => sum + (i.size_bytes || 0), 0);
    if (total > MAX_ARCHIVE_BYTES) return oneByOne(items);
    const files = [];
    const names = uniqueNames(items.map((i) => i.original_filename || `${i.id}`));
    const results = await runEach(items, async (item) => {
      const bytes = await api.content(item.id);
      files.push({ name: names[items.indexOf(item)], bytes, modified: new Date(item.captured_at) });
      return `added as ${names[items.indexOf(item)]}`;
    });
    if (files.length) save(new Blob(zipParts(files), { type: 'application/zip' }), `media-${new Date().toISOString().slice(0, 10)}.zip`);
    showSummary('Download as one archive', results);
  }

  async function oneByOne(items) {
    const results = await runEach(items, async (item) => {
      const signed = await api.download(item.id);
      const link = h('a', { href: signed.url, target: '_blank', rel: 'noopener', hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      return 'download started';
    });
    showSummary('Download one by one', results);
  }

  const el = h(
    'div',
    { class: 'bulk-bar', role: 'region', 'aria-label': 'Selection', hidden: true },
    count,
    button('Delete', remove, { class: 'danger' }),
    button('Add label', label),
    button('Share', share),
    button('Download archive', archive),
    button('Download each', oneByOne),
    h('button', { type: 'button', onclick: () => selection.clear() }, 'Clear selection'),
  );
  return {
    el,
    update(ids) {
      el.hidden = ids.length === 0;
      count.textContent = `${ids.length} selected`;
    },
  };
}
