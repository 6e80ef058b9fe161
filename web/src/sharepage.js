// The page a share link opens (`/s/{token}`), for people without an account: the shared photo or
// video with its name, capture time and the link's expiry, a download of the original, and a
// clear page when the link was revoked, has expired, names deleted media or is not a link at all.
// The media itself comes from short-lived signed URLs (`GET /v1/s/{token}/view`); the address
// bar keeps this page's URL.

import { h, replace } from './dom.js';
import { formatTime } from './format.js';

/** What the page says for an API error of the viewer route: [heading, sentence]. */
export function shareProblem(error) {
  switch (error.code) {
    case 'share_revoked':
      return ['This link was turned off', 'The person who shared it has revoked it. Ask them for a new link if you still need it.'];
    case 'share_expired':
      return ['This link has expired', 'Share links work for a limited time. Ask the person who shared it for a new one.'];
    case 'media_deleted':
      return ['This media was deleted', 'What was shared here no longer exists.'];
    case 'not_found':
      return ['This link does not work', 'No share has this address. Check that the whole link was copied.'];
    default:
      return ['The shared media could not be loaded', `Try again in a moment (${error.message || error.code}).`];
  }
}

/** Render the share page of `token` into `container`. */
export async function renderShare({ api, token, container }) {
  const heading = h('h1', { tabindex: '-1' }, 'Shared media');
  replace(container, h('main', { class: 'share-page', id: 'main' }, heading, h('p', { class: 'muted', role: 'status' }, 'Loading…')));
  let view;
  try {
    view = await api.shareView(token);
  } catch (error) {
    const [title, sentence] = shareProblem(error);
    document.title = `${title} · Media gallery`;
    const problem = h('h1', { tabindex: '-1' }, title);
    replace(container, h('main', { class: 'share-page', id: 'main' },
      h('div', { class: 'error-page share-problem', dataset: { code: error.code || 'internal' } }, problem, h('p', null, sentence))));
    problem.focus({ preventScroll: true });
    return { destroy() {} };
  }
  document.title = `${view.name} · shared`;
  const sizes = view.width_px ? { width: view.width_px, height: view.height_px } : {};
  let shown;
  if (!view.playable || !view.view_url) {
    shown = h('div', { class: 'placeholder large unplayable', role: 'status' },
      view.reason ? `This video cannot be played in a browser (${view.reason}). Download it to watch it.` : 'This media is still being prepared; try again in a minute.');
  } else if (view.media_type === 'video') {
    shown = h('video', { src: view.view_url, poster: view.poster_url, controls: true, playsinline: true, preload: 'metadata', class: 'media', 'aria-label': view.name, ...sizes });
    let retried = false;
    shown.addEventListener('error', async () => {
      if (retried) return;
      retried = true;
      try {
        shown.src = (await api.shareView(token)).view_url;
      } catch {
        // the page stays as it is; the download below still names the way out
      }
    });
  } else {
    shown = h('img', { src: view.view_url, alt: `Shared photo: ${view.name}`, class: 'media', decoding: 'async', fetchpriority: 'high', ...sizes });
  }
  const named = h('h1', { tabindex: '-1' }, view.name);
  replace(
    container,
    h('main', { class: 'share-page', id: 'main' },
      named,
      h('p', { class: 'muted' }, `Captured ${formatTime(view.captured_at)} · this link works until ${formatTime(view.expires_at)}`),
      h('div', { class: 'share-media' }, shown),
      h('p', null, h('a', { href: view.download_url, class: 'button primary', rel: 'noopener' }, 'Download original'))),
  );
  named.focus({ preventScroll: true });
  return { destroy() { shown.pause?.(); } };
}
