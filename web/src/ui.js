// What the page says to the person: errors with the API's code and message, confirmations,
// short notices.

import { h, replace } from './dom.js';

let errorArea = null;
let noticeArea = null;

/** Where errors and notices go (set once by the shell). */
export function mountMessages(errors, notices) {
  errorArea = errors;
  noticeArea = notices;
}

/** The code and the message of an error, as shown. */
export function describeError(error) {
  if (error && typeof error.code === 'string') {
    return { code: error.code, message: error.message || '' };
  }
  return { code: 'internal', message: (error && error.message) || String(error) };
}

/**
 * Show an error (the API's `code` and `message`) until dismissed.
 * @param {any} error
 * @param {{context?: string, action?: {label: string, run: () => void}}} [options]
 */
export function showError(error, { context, action } = {}) {
  const { code, message } = describeError(error);
  const text = context ? `${context}: ${message}` : message;
  // The same error again (a retry, a second tile) is not stacked: the one shown stays.
  for (const shown of errorArea?.children || []) {
    if (shown.dataset.code === code && shown.dataset.text === text && !action) return shown;
  }
  const item = h(
    'div',
    { class: 'error', role: 'alert', dataset: { code, text } },
    h('strong', { class: 'error-code' }, code),
    h('span', { class: 'error-message' }, text),
    action &&
      h('button', { type: 'button', onclick: () => { item.remove(); action.run(); } }, action.label),
    h('button', { type: 'button', class: 'dismiss', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'),
  );
  if (errorArea) errorArea.append(item);
  else document.body.prepend(item);
  return item;
}

/** Remove every error shown. */
export function clearErrors() {
  if (errorArea) replace(errorArea);
}

/** A short notice that goes away by itself. */
export function notice(text) {
  if (!noticeArea) return;
  const item = h('div', { class: 'notice', role: 'status' }, text);
  noticeArea.append(item);
  setTimeout(() => item.remove(), 4000);
}

/**
 * Ask before something that cannot be undone.
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, body, confirm }) {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-label': title },
      h('h2', null, title),
      h('p', null, body),
      h(
        'form',
        { method: 'dialog', class: 'actions' },
        h('button', { value: 'cancel', type: 'submit' }, 'Cancel'),
        h('button', { value: 'confirm', type: 'submit', class: 'danger' }, confirm),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Copy text to the clipboard; falls back to selecting it in `input`. */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) {
      input.focus();
      input.select();
    }
    return false;
  }
}
