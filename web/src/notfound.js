// The page for a path the app does not know.

import { h, replace } from './dom.js';

/** Render the not-found view into `container`. */
export function renderNotFound({ container, navigate }) {
  const heading = h('h1', { tabindex: '-1' }, 'Page not found');
  replace(
    container,
    h('div', { class: 'error-page', dataset: { code: 'not_found' } },
      heading,
      h('p', null, `There is nothing at ${window.location.pathname}.`),
      h('p', null, h('a', { href: '/', onclick: (e) => { e.preventDefault(); navigate('/'); } }, 'Go to the gallery'))),
  );
  heading.focus({ preventScroll: true });
  return { destroy() {} };
}
