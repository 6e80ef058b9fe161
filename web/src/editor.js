// Labels and note, edited in place and saved with a JSON merge patch that names the ETag the
// person started from (`If-Match`), so a concurrent edit is not overwritten: a 412 says so and
// offers to load the other change, with the person's own edit kept on top of it to review.

import { h, replace } from './dom.js';
import { notice, showError } from './ui.js';

const LABEL_PATTERN = /^.{1,64}$/u;

/** The merge patch from `before` to `after` (only what changed; null clears the note). */
export function mergePatch(before, after) {
  const patch = {};
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same(before.labels || [], after.labels || [])) patch.labels = after.labels;
  if ((before.note || '') !== (after.note || '')) patch.note = after.note ? after.note : null;
  return patch;
}

/**
 * A draft edited from `base`, applied again on top of `fresh` (someone else's newer values):
 * labels the person added or removed are added or removed again, the note is theirs if they
 * changed it.
 */
export function rebase(draft, base, fresh) {
  const added = draft.labels.filter((l) => !base.labels.includes(l));
  const removed = base.labels.filter((l) => !draft.labels.includes(l));
  const labels = [...fresh.labels.filter((l) => !removed.includes(l)), ...added.filter((l) => !fresh.labels.includes(l))];
  return { labels, note: draft.note !== base.note ? draft.note : fresh.note };
}

const DRAFT_KEY = 'media-gallery.draft.';

/**
 * @param {{api: any, media: object, etag: string, onSaved: (media: object, etag: string) => void,
 *   onStale: () => void}} options
 */
export function createEditor({ api, media, etag, onSaved, onStale }) {
  let saved = { labels: [...(media.labels || [])], note: media.note || '' };
  let draft = { labels: [...saved.labels], note: saved.note };
  let kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(DRAFT_KEY + media.id) || 'null');
  } catch {
    kept = null;
  }
  sessionStorage.removeItem(DRAFT_KEY + media.id);
  if (kept) draft = rebase(kept.draft, kept.base, saved);
  let currentEtag = etag;
  let saving = false;

  const chips = h('ul', { class: 'label-chips', 'aria-label': 'Labels' });
  const input = h('input', {
    type: 'text',
    placeholder: 'add a label',
    'aria-label': 'New label',
    maxlength: 64,
    oninput: () => update(),
    onkeydown: (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        addLabel();
      }
    },
  });
  const note = h('textarea', {
    rows: 3,
    maxlength: 2000,
    'aria-label': 'Note',
    placeholder: 'a note for people',
    oninput: () => {
      draft.note = note.value;
      update();
    },
  });
  note.value = draft.note;
  const save = h('button', { type: 'button', class: 'primary', onclick: () => submit() }, 'Save');
  const undo = h('button', { type: 'button', onclick: () => reset(saved) }, 'Discard');
  const status = h('span', { class: 'editor-status', role: 'status' });

  function addLabel() {
    const value = input.value.trim();
    if (!value) return;
    if (!LABEL_PATTERN.test(value)) return;
    if (!draft.labels.includes(value)) draft.labels.push(value);
    input.value = '';
    update();
  }

  function update() {
    replace(
      chips,
      draft.labels.map((label) =>
        h(
          'li',
          { class: 'label-chip' },
          h('span', null, label),
          h(
            'button',
            {
              type: 'button',
              'aria-label': `Remove label ${label}`,
              onclick: () => {
                draft.labels = draft.labels.filter((l) => l !== label);
                update();
              },
            },
            '×',
          ),
        ),
      ),
    );
    const dirty = Object.keys(mergePatch(saved, draft)).length > 0 || input.value.trim() !== '';
    save.disabled = !dirty || saving;
    undo.disabled = !dirty || saving;
    status.textContent = saving ? 'Saving…' : dirty ? (kept ? 'Your edit, on top of their change: review and save' : 'Unsaved changes') : '';
  }

  function reset(values) {
    draft = { labels: [...values.labels], note: values.note };
    note.value = draft.note;
    update();
  }

  async function submit() {
    addLabel();
    const patch = mergePatch(saved, draft);
    if (!Object.keys(patch).length) return;
    saving = true;
    update();
    try {
      const answer = await api.patch(media.id, patch, currentEtag);
      currentEtag = answer.etag;
      kept = null;
      saved = { labels: [...(answer.media.labels || [])], note: answer.media.note || '' };
      reset(saved);
      notice('Saved.');
      onSaved(answer.media, answer.etag);
    } catch (error) {
      if (error.status === 412) {
        showError(error, {
          context: 'Someone else changed this media since you opened it; your edit was not saved',
          action: {
            label: 'Load their change',
            run: () => {
              sessionStorage.setItem(DRAFT_KEY + media.id, JSON.stringify({ draft, base: saved }));
              onStale();
            },
          },
        });
      } else {
        showError(error, { context: 'Saving labels and note' });
      }
    } finally {
      saving = false;
      update();
    }
  }

  update();
  return h(
    'section',
    { class: 'editor', 'aria-label': 'Labels and note' },
    h('h2', null, 'Labels and note'),
    chips,
    h('div', { class: 'row' }, input, h('button', { type: 'button', onclick: addLabel }, 'Add label')),
    note,
    h('div', { class: 'row' }, save, undo, status),
  );
}
