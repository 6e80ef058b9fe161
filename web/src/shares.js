// Share links: a URL that opens the media without an account until it expires or is revoked
// (`POST /v1/media/{id}/shares`, `GET .../shares`, `DELETE /v1/shares/{share_id}`).

import { h, replace } from './dom.js';
import { formatTime } from './format.js';
import { copyText, notice, showError } from './ui.js';

export const EXPIRIES = [
  { seconds: 3600, label: '1 hour' },
  { seconds: 86400, label: '1 day' },
  { seconds: 7 * 86400, label: '7 days' },
];

/** "active", "revoked" or "expired" at `now` (ms). */
export function shareState(share, now = Date.now()) {
  if (share.revoked_at) return 'revoked';
  if (share.expires_at && Date.parse(share.expires_at) <= now) return 'expired';
  return 'active';
}

export function createShares({ api, media }) {
  const list = h('ul', { class: 'shares', 'aria-label': 'Share links' });
  const created = h('div', { class: 'share-created', hidden: true });
  const expiry = h(
    'select',
    { 'aria-label': 'Link expires after' },
    EXPIRIES.map((e) => h('option', { value: String(e.seconds) }, e.label)),
  );
  expiry.value = String(86400);
  const shareNote = h('input', { type: 'text', placeholder: 'for whom (optional)', 'aria-label': 'Share note', maxlength: 200 });
  const button = h('button', { type: 'button', class: 'primary', onclick: () => create() }, 'Create share link');

  async function refresh() {
    try {
      const answer = await api.shares(media.id);
      render(answer.items || []);
    } catch (error) {
      replace(list, h('li', { class: 'muted' }, 'Share links could not be listed.'));
      showError(error, { context: 'Listing share links' });
    }
  }

  function render(items) {
    if (!items.length) {
      replace(list, h('li', { class: 'muted' }, 'No share links yet.'));
      return;
    }
    replace(
      list,
      items.map((share) => {
        const state = shareState(share);
        return h(
          'li',
          { class: `share share-${state}`, dataset: { shareId: share.share_id, state } },
          h('span', { class: 'share-state' }, state),
          h('span', null, state === 'revoked' ? `revoked ${formatTime(share.revoked_at)}` : `${state === 'expired' ? 'expired' : 'expires'} ${formatTime(share.expires_at)}`),
          share.note && h('span', { class: 'muted' }, share.note),
          state === 'active' &&
            h('button', { type: 'button', class: 'danger', onclick: () => revoke(share) }, 'Revoke'),
        );
      }),
    );
  }

  async function create() {
    button.disabled = true;
    try {
      const share = await api.createShare(media.id, Number(expiry.value), shareNote.value.trim());
      const url = h('input', { type: 'text', readonly: true, value: share.url, 'aria-label': 'Share link', class: 'share-url' });
      replace(
        created,
        url,
        h(
          'button',
          {
            type: 'button',
            onclick: async () => notice((await copyText(share.url, url)) ? 'Link copied.' : 'Select the link and copy it.'),
          },
          'Copy link',
        ),
        h('span', { class: 'muted' }, `expires ${formatTime(share.expires_at)}`),
      );
      created.hidden = false;
      shareNote.value = '';
      await refresh();
    } catch (error) {
      showError(error, { context: 'Creating a share link' });
    } finally {
      button.disabled = false;
    }
  }

  async function revoke(share) {
    try {
      await api.revokeShare(share.share_id);
      if (created.querySelector('input')?.value.includes(share.share_id)) created.hidden = true;
      notice('Share link revoked.');
      await refresh();
    } catch (error) {
      showError(error, { context: 'Revoking a share link' });
    }
  }

  refresh();
  return h(
    'section',
    { class: 'sharing', 'aria-label': 'Share' },
    h('h2', null, 'Share'),
    h('div', { class: 'row' }, h('label', null, 'Expires after ', expiry), shareNote, button),
    created,
    list,
  );
}
