// Small DOM helpers: build elements without innerHTML (no markup from data ever reaches the
// parser), and styles through the CSSOM so the page needs no inline style attributes.

/**
 * Create an element.
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs] `class`, `dataset`, `style` (object), `on<event>`
 *   handlers, booleans (true: present), anything else as an attribute; null/false are skipped.
 * @param {...any} children strings, nodes, arrays of them, null (skipped)
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') Object.assign(el.style, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'value' && 'value' in el) el.value = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/** Append strings, nodes or (nested) arrays of them; null and undefined are skipped. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace every child of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}
