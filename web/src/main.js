// The page: configuration, sign-in, the shell (skip link, header, messages, upload panel) and the
// views of views.js, switched with the History API. The gallery stays mounted (hidden) while
// another view shows, so going back keeps its scroll position and its loaded pages.

import './styles.css';
import { createApi } from './api.js';
import {
  CALLBACK_PATH,
  SESSION_STORAGE_KEY,
  completeOidc,
  currentSession,
  devLogin,
  endedSessionReason,
  msUntilExpiry,
  signInMethods,
  signOut,
  startOidc,
} from './auth.js';
import { renderDetail } from './detail.js';
import { h, replace } from './dom.js';
import { createGallery } from './gallery.js';
import { renderNotFound } from './notfound.js';
import { REVIEW_PATH, renderReview } from './review.js';
import { renderShare } from './sharepage.js';
import { StreamPool } from './streams.js';
import { clearErrors, mountMessages, showError } from './ui.js';
import { createUploads } from './uploads.js';
import { matchRoute } from './views.js';

const root = document.getElementById('app');
const errors = h('div', { class: 'errors', 'aria-live': 'assertive' });
const notices = h('div', { class: 'notices', 'aria-live': 'polite' });
mountMessages(errors, notices);

// Nothing fails silently into a blank page.
window.addEventListener('error', (event) => showError(event.error || new Error(event.message)));
window.addEventListener('unhandledrejection', (event) => showError(event.reason));

async function loadConfig() {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw Object.assign(new Error(`/config.json answered ${response.status}`), { code: 'config_missing' });
  const config = await response.json();
  if (!config.apiBaseUrl) throw Object.assign(new Error('/config.json has no apiBaseUrl'), { code: 'config_incomplete' });
  return config;
}

const skipLink = () => h('a', { class: 'skip-link', href: '#main' }, 'Skip to content');

function signInPage(config, reason) {
  const methods = signInMethods(config);
  const busy = (button, run) => async () => {
    button.disabled = true;
    try {
      await run();
    } catch (error) {
      showError(error, { context: 'Sign-in' });
      button.disabled = false;
    }
  };
  const buttons = [];
  if (methods.dev) {
    const dev = h('button', { type: 'button', class: 'primary' }, 'Sign in as the demo user');
    dev.addEventListener('click', busy(dev, async () => {
      await devLogin(config);
      start(config);
    }));
    buttons.push(dev, h('p', { class: 'muted' }, 'Local stack only: a one-click login for a demo user who owns the demo cameras.'));
  }
  if (methods.oidc) {
    const oidc = h('button', { type: 'button', class: 'primary' }, `Sign in with ${config.oidcName || 'your organisation'}`);
    oidc.addEventListener('click', busy(oidc, () => startOidc(config, window.location.pathname + window.location.search)));
    buttons.push(oidc);
  }
  if (!buttons.length) {
    buttons.push(h('p', { role: 'alert' }, 'This deployment names no way to sign in (config.json has neither oidcIssuer nor devLoginUrl).'));
  }
  document.title = 'Sign in · Media gallery';
  replace(
    root,
    skipLink(),
    errors,
    h('main', { class: 'signin', id: 'main' },
      h('h1', null, 'Media gallery'),
      reason && h('p', { class: 'reason', role: 'status' }, reason),
      buttons,
      config.environment && h('p', { class: 'muted' }, config.environment)),
    notices,
  );
}

function publicPage(config, route) {
  const api = createApi(config, () => null, () => {});
  const container = h('div', { class: 'public' });
  replace(root, skipLink(), h('header', { class: 'top' }, h('span', { class: 'brand' }, 'Media gallery')), errors, container, notices);
  renderShare({ api, token: route.params.token, container });
}

function start(config) {
  const here = matchRoute(window.location.pathname);
  if (here.public) return publicPage(config, here);
  const session = currentSession();
  if (!session) return signInPage(config, endedSessionReason());
  clearErrors();
  let ended = false;
  const end = (reason) => {
    if (ended) return;
    ended = true;
    clearTimeout(expiry);
    window.removeEventListener('storage', onStorage);
    document.removeEventListener('keydown', onKey);
    streams.closeAll();
    gallery.destroy();
    uploads.destroy();
    current?.destroy();
    signOut();
    clearErrors();
    signInPage(config, reason);
  };
  const expiry = setTimeout(() => end('Your session expired: sign in again.'), msUntilExpiry(session) ?? 2 ** 31 - 1);
  const onStorage = (event) => {
    if (event.key === SESSION_STORAGE_KEY && !event.newValue) end('You signed out in another tab.');
  };
  window.addEventListener('storage', onStorage);
  const api = createApi(config, () => currentSession()?.token || null, (error) =>
    end(`You were signed out: the API refused the session (${error.code}: ${error.message}).`),
  );
  const streams = new StreamPool(api, (error) => {
    if (error.status !== 401) showError(error, { context: 'Live status' });
  });
  const view = h('main', { class: 'view', id: 'main', tabindex: '-1' });
  const other = h('div', { class: 'detail', hidden: true });
  let current = null;
  // Whether the history entry before this one is the gallery (previous/next replace the entry,
  // so Back from any media of a run returns to the grid).
  let fromGallery = false;

  const navigate = (target, { replace: replaceState = false } = {}) => {
    // Back to the gallery keeps its filters.
    const path = target === '/' ? gallery.path() : target;
    if (!replaceState) fromGallery = matchRoute(window.location.pathname).name === 'gallery';
    if (replaceState) window.history.replaceState(null, '', path);
    else window.history.pushState(null, '', path);
    route();
  };
  /** Back to the grid from a media, focus on its tile: the browser's Back when it came from there. */
  const back = (id) => {
    pendingFocus = id;
    if (fromGallery) window.history.back();
    else navigate('/');
  };
  let pendingFocus = null;
  const gallery = createGallery({ api, streams, navigate });
  const uploads = createUploads({ api, streams, gallery, navigate });

  async function route() {
    if (ended) return;
    current?.destroy();
    current = null;
    const found = matchRoute(window.location.pathname);
    if (found.name === 'gallery') {
      other.hidden = true;
      replace(other);
      document.title = 'Media gallery';
      gallery.show(true);
      const focus = pendingFocus || other.dataset.mediaId;
      pendingFocus = null;
      delete other.dataset.mediaId;
      if (focus) requestAnimationFrame(() => gallery.focusTile(focus));
      return;
    }
    gallery.show(false);
    other.hidden = false;
    window.scrollTo(0, 0);
    if (found.name === 'media') {
      // A view left before it finished loading must not draw itself over the next one.
      const left = new AbortController();
      const pending = renderDetail({ api, streams, id: found.params.id, navigate, back, gallery, container: other, signal: left.signal });
      document.title = 'Media · Media gallery';
      let loaded = null;
      pending.then((d) => { loaded = d; });
      current = {
        keydown: (event) => loaded?.keydown?.(event) || false,
        destroy: () => {
          left.abort();
          pending.then((d) => d.destroy());
        },
      };
    } else if (found.name === 'review') {
      document.title = 'Review · Media gallery';
      current = renderReview({ api, container: other, pollMs: config.reviewPollMs });
    } else if (found.name === 'share') {
      current = await renderShare({ api, token: found.params.token, container: other });
    } else {
      document.title = 'Not found · Media gallery';
      current = renderNotFound({ container: other, navigate });
    }
  }

  const onKey = (event) => {
    if (current?.keydown?.(event)) event.preventDefault();
  };
  document.addEventListener('keydown', onKey);

  const header = h(
    'header',
    { class: 'top' },
    h('a', { href: '/', class: 'brand', onclick: (e) => { e.preventDefault(); navigate('/'); } }, 'Media gallery'),
    h('a', { href: REVIEW_PATH, onclick: (e) => { e.preventDefault(); navigate(REVIEW_PATH); } }, 'Review'),
    h('div', { class: 'spacer' }),
    h('button', { type: 'button', class: 'primary', onclick: () => uploads.toggle() }, 'Upload'),
    h('span', { class: 'user', title: session.subject }, session.user),
    h('button', { type: 'button', onclick: () => end('Signed out.') }, 'Sign out'),
  );
  view.append(gallery.el, other);
  replace(root, skipLink(), header, errors, uploads.panel, view, notices, uploads.dropzone);
  window.onpopstate = route;
  uploads.devicesFrom(gallery.start());
  route();
}

async function boot() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    replace(root, errors);
    showError(error, { context: 'The gallery cannot start' });
    return;
  }
  if (window.location.pathname === CALLBACK_PATH) {
    try {
      const { returnTo } = await completeOidc(config);
      window.history.replaceState(null, '', returnTo);
    } catch (error) {
      window.history.replaceState(null, '', '/');
      signInPage(config);
      showError(error, { context: 'Sign-in' });
      return;
    }
  }
  start(config);
}

boot();
