// A photo people can zoom into: the wheel or a pinch zooms around the pointer, dragging pans,
// buttons (and + / - / 0 on the keyboard) do the same without a pointer. The display-size
// rendition is shown first; the original is loaded only once someone zooms past it.

import { h } from './dom.js';

export const MAX_SCALE = 8;

/** `value` kept within [low, high]. */
export function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/**
 * The pan that keeps the point under the pointer still while the scale changes from `from` to
 * `to` (pointer and pan in px from the stage's top-left corner).
 */
export function zoomAround({ x, y }, pan, from, to) {
  return { x: x - ((x - pan.x) * to) / from, y: y - ((y - pan.y) * to) / from };
}

/** A pan that keeps a picture scaled by `scale` covering a `width` x `height` stage. */
export function clampPan(pan, scale, width, height) {
  return {
    x: clamp(pan.x, width - width * scale, 0),
    y: clamp(pan.y, height - height * scale, 0),
  };
}

/**
 * Make `img` (inside `stage`, with the box `layer` over it) zoomable.
 * @param {{stage: HTMLElement, img: HTMLImageElement, layer: HTMLElement, originalUrl: () => Promise<string>,
 *   needsOriginal: boolean}} options
 * @returns {{controls: HTMLElement, reset: () => void}}
 */
export function makeZoomable({ stage, img, layer, originalUrl, needsOriginal }) {
  let scale = 1;
  let pan = { x: 0, y: 0 };
  let original = !needsOriginal;
  const pointers = new Map();
  let pinch = null;
  const level = h('output', { class: 'zoom-level', 'aria-live': 'polite' }, '100 %');

  function apply() {
    const rect = stage.getBoundingClientRect();
    pan = clampPan(pan, scale, rect.width, rect.height);
    const transform = `translate(${pan.x}px, ${pan.y}px) scale(${scale})`;
    img.style.transform = transform;
    layer.style.transform = transform;
    stage.classList.toggle('zoomed', scale > 1);
    stage.dataset.scale = scale.toFixed(2);
    level.textContent = `${Math.round(scale * 100)} %`;
    if (scale > 1.05 && !original) {
      original = true;
      originalUrl()
        .then((url) => {
          img.src = url;
          stage.dataset.original = 'true';
        })
        .catch(() => {
          original = false;
        });
    }
  }

  function zoomTo(next, at) {
    const rect = stage.getBoundingClientRect();
    const point = at || { x: rect.width / 2, y: rect.height / 2 };
    const to = clamp(next, 1, MAX_SCALE);
    pan = zoomAround(point, pan, scale, to);
    scale = to;
    apply();
  }

  stage.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const rect = stage.getBoundingClientRect();
      zoomTo(scale * Math.exp(-event.deltaY / 300), { x: event.clientX - rect.left, y: event.clientY - rect.top });
    },
    { passive: false },
  );
  stage.addEventListener('pointerdown', (event) => {
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    stage.setPointerCapture(event.pointerId);
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), scale };
    }
  });
  stage.addEventListener('pointermove', (event) => {
    const last = pointers.get(event.pointerId);
    if (!last) return;
    const now = { x: event.clientX, y: event.clientY };
    pointers.set(event.pointerId, now);
    if (pointers.size === 2 && pinch) {
      const [a, b] = [...pointers.values()];
      const rect = stage.getBoundingClientRect();
      const centre = { x: (a.x + b.x) / 2 - rect.left, y: (a.y + b.y) / 2 - rect.top };
      zoomTo((pinch.scale * Math.hypot(a.x - b.x, a.y - b.y)) / pinch.distance, centre);
    } else if (scale > 1) {
      pan = { x: pan.x + now.x - last.x, y: pan.y + now.y - last.y };
      apply();
    }
  });
  const release = (event) => {
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
  };
  stage.addEventListener('pointerup', release);
  stage.addEventListener('pointercancel', release);

  const reset = () => {
    scale = 1;
    pan = { x: 0, y: 0 };
    apply();
  };
  const controls = h(
    'div',
    { class: 'zoom-controls', role: 'group', 'aria-label': 'Zoom' },
    h('button', { type: 'button', 'aria-label': 'Zoom out', onclick: () => zoomTo(scale / 1.5) }, '−'),
    level,
    h('button', { type: 'button', 'aria-label': 'Zoom in', onclick: () => zoomTo(scale * 1.5) }, '+'),
    h('button', { type: 'button', onclick: reset }, 'Fit'),
  );
  return {
    controls,
    reset,
    zoomIn: () => zoomTo(scale * 1.5),
    zoomOut: () => zoomTo(scale / 1.5),
  };
}
