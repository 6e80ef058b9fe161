// The page: configuration, sign-in, the shell (header, messages, upload panel), and two views,
// the gallery (`/`) and one media (`/media/{id}`), switched with the History API.

import './styles.css';
import { createApi } from './api.js';
import {
  CALLBACK_PATH,
  completeOidc,
  currentSession,
  devLogin,
  signInMethods,
  signOut,
  startOidc,
} from './auth.js';
import { renderDetail } from './detail.js';
import { h, replace } from './dom.js';
import { createGallery } from './gallery.js';
import { createReview, REVIEW_PATH } from './review.js';
import { StreamPool } from './streams.js';
import { clearErrors, mountMessages, showError } from './ui.js';
import { createUploads } from './uploads.js';

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
  for (const key of ['createMediaUrl', 'listMediaUrl', 'manageMediaUrl']) {
    if (!config[key]) throw Object.assign(new Error(`/config.json has no ${key}`), { code: 'config_incomplete' });
  }
  return config;
}

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
  replace(
    root,
    errors,
    h('main', { class: 'signin' },
      h('h1', null, 'Media gallery'),
      reason && h('p', { class: 'muted', role: 'status' }, reason),
      buttons,
      config.environment && h('p', { class: 'muted' }, config.environment),
    ),
    notices,
  );
}

function start(config) {
  const session = currentSession();
  if (!session) return signInPage(config);
  clearErrors();
  let ended = false;
  const end = (reason) => {
    if (ended) return;
    ended = true;
    streams.closeAll();
    gallery.destroy();
    review.destroy();
    uploads.destroy();
    detail?.destroy();
    signOut();
    signInPage(config, reason);
  };
  const api = createApi(config, () => currentSession()?.token || null, (error) =>
    end(`You were signed out: ${error.code}: ${error.message}`),
  );
  const streams = new StreamPool(api, (error) => showError(error, { context: 'Live status' }));
  const view = h('main', { class: 'view' });
  const detailView = h('div', { class: 'detail', hidden: true });
  let detail = null;

  const navigate = (target, { replace: replaceState = false } = {}) => {
    // Back to the gallery keeps its filters.
    const path = target === '/' ? gallery.path() : target;
    if (replaceState) window.history.replaceState(null, '', path);
    else window.history.pushState(null, '', path);
    route();
  };
  const gallery = createGallery({ api, streams, navigate });
  const uploads = createUploads({ api, streams, gallery, navigate });
  const review = createReview({ api, pollMs: config.reviewPollMs || undefined });

  async function route() {
    if (ended) return;
    if (detail) {
      detail.destroy();
      detail = null;
    }
    const match = window.location.pathname.match(/^\/media\/([^/]+)$/);
    review.show(window.location.pathname === REVIEW_PATH);
    if (window.location.pathname === REVIEW_PATH) {
      gallery.show(false);
      detailView.hidden = true;
    } else if (match) {
      gallery.show(false);
      detailView.hidden = false;
      window.scrollTo(0, 0);
      // A view left before it finished loading must not draw itself over the next one.
      const left = new AbortController();
      const pending = renderDetail({ api, streams, id: decodeURIComponent(match[1]), navigate, gallery, container: detailView, signal: left.signal });
      detail = {
        destroy: () => {
          left.abort();
          pending.then((d) => d.destroy());
        },
      };
    } else {
      detailView.hidden = true;
      replace(detailView);
      gallery.show(true);
    }
  }

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
  view.append(gallery.el, review.el, detailView);
  replace(root, header, errors, uploads.panel, view, notices, uploads.dropzone);
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
