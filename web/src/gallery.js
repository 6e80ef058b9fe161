// The gallery: every medium of the user's devices, newest capture first, under a heading per
// day, in pages of the keyset cursor loaded as the end of the grid scrolls into view; filter
// chips (filters.js); selection and bulk actions (bulk.js); live status badges.

import { followArrivals } from './arrivals.js';
import { createBulkBar, createSelection } from './bulk.js';
import { dayLabel, groupByDay, newestFirst } from './days.js';
import { h, replace } from './dom.js';
import {
  COMMON_OBJECTS,
  apiFilters,
  cameraPairs,
  chipGroups,
  filtered,
  filtersFromSearch,
  matches,
  searchOfFilters,
} from './filters.js';
import { MEDIA_TERMINAL, formatCounts, formatTime } from './format.js';
import { tileElement } from './tiles.js';
import { showError } from './ui.js';

export const PAGE_SIZE = 24;
export { apiFilters, filtersFromSearch, matches, newestFirst, searchOfFilters };
export { mediaName, tileLabel } from './tiles.js';

/**
 * @param {{api: any, streams: import('./streams.js').StreamPool,
 *   navigate: (path: string) => void}} deps
 */
export function createGallery({ api, streams, navigate }) {
  let state = filtersFromSearch(window.location.search);
  let items = [];
  let cursor = null;
  let loading = false;
  let generation = 0;
  let devices = null;
  let devicesLoaded = false;
  let scrollY = 0;
  const tiles = new Map();
  const followed = new Map();
  const labelsSeen = new Set();
  const objectsSeen = new Set(COMMON_OBJECTS);
  // live: the one stream of every media of the user's devices is open (no per-tile streams)
  let live = false;
  let arrivals = null;
  const waiting = new Map(); // arrivals held while the person has scrolled away from the top

  const selection = createSelection((ids) => {
    bulk.update(ids);
    for (const [id, node] of tiles) {
      const box = node.querySelector('input.select');
      box.checked = ids.includes(id);
      node.classList.toggle('selected', box.checked);
    }
    el.classList.toggle('selecting', ids.length > 0);
  });
  const bulk = createBulkBar({
    api,
    selection,
    itemsOf: (ids) => items.filter((i) => ids.includes(i.id)),
    onDeleted: (id) => remove(id),
    onChanged: (media) => upsert(media),
  });

  const heading = h('h1', { class: 'gallery-title' }, 'Your media');
  const pill = h('button', { type: 'button', class: 'new-pill', hidden: true, onclick: () => showWaiting() });
  const jumped = h('p', { class: 'jumped', hidden: true });
  const days = h('section', { class: 'days', 'aria-label': 'Media' });
  const empty = h('div', { class: 'empty', hidden: true, role: 'status' });
  const more = h('p', { class: 'more', 'aria-live': 'polite' });
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  const chips = h('nav', { class: 'filters', 'aria-label': 'Filters' });
  const el = h('section', { class: 'gallery', 'aria-labelledby': 'gallery-title' }, heading, chips, jumped, bulk.el, pill, days, empty, more, sentinel);
  heading.id = 'gallery-title';

  const observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore();
    },
    { rootMargin: '600px 0px' },
  );
  observer.observe(sentinel);

  function setState(next) {
    state = { ...state, ...next };
    window.history.replaceState(window.history.state, '', `${window.location.pathname}${searchOfFilters(state)}`);
    selection.clear();
    reload();
  }

  let chipsKey = '';

  function renderChips() {
    const key = JSON.stringify([state, [...labelsSeen].sort(), [...objectsSeen].sort(), devices, devicesLoaded]);
    if (key === chipsKey) return;
    chipsKey = key;
    replace(chips, chipGroups({ state, set: setState, cameras: cameraPairs(devices), devicesLoaded, objects: [...objectsSeen].sort(), labels: [...labelsSeen].sort() }));
    jumped.hidden = !state.at;
    replace(
      jumped,
      state.at && `Showing what was captured up to ${formatTime(new Date(`${state.at}:59:59`).toISOString())}. `,
      state.at && h('button', { type: 'button', onclick: () => setState({ at: '' }) }, 'Back to the newest'),
    );
  }

  function tile(item) {
    return tileElement(item, {
      // the first row is what a person sees first: no lazy loading, fetched first
      eager: items.indexOf(item) < 6,
      selected: selection.has(item.id),
      onOpen: () => navigate(`/media/${item.id}`),
      onSelect: (range) => selection.toggle(item.id, { range, order: items.map((i) => i.id) }),
    });
  }

  function showWaiting() {
    for (const media of waiting.values()) upsert(media);
    waiting.clear();
    pill.hidden = true;
    window.scrollTo({ top: 0 });
    days.querySelector('a.tile')?.focus({ preventScroll: true });
  }

  /** A version of some media of the user's devices, from the live stream. */
  async function arrived(doc) {
    const id = doc.media_id;
    const current = items.find((i) => i.id === id);
    if (doc.status === 'deleted') return current && remove(id);
    if (current) {
      if (current.status === doc.status) return;
      if (doc.status === 'processed') return refreshItem(id);
      return upsert({ ...current, status: doc.status, status_reason: doc.reason ?? current.status_reason });
    }
    if (waiting.has(id) && doc.status !== 'processed') return;
    const known = cameraPairs(devices).some((c) => c.device === doc.device_id && c.camera === doc.camera_id);
    if (!known) loadDevices(); // a camera used for the first time gets its chip
    let media;
    try {
      ({ media } = await api.media(id));
    } catch {
      return;
    }
    if (!matches(apiFilters(state), media)) return;
    const last = items[items.length - 1];
    if (cursor && last && newestFirst(media, last) > 0) return; // a later page brings it
    if (window.scrollY > 300 || waiting.size) {
      waiting.set(id, media);
      pill.hidden = false;
      pill.textContent = `${waiting.size} new — show`;
      return;
    }
    upsert(media);
  }

  function follow(item) {
    if (live || MEDIA_TERMINAL.has(item.status) || followed.has(item.id)) return;
    const handle = streams.follow(
      'media',
      item.id,
      (data) => {
        const current = items.find((i) => i.id === item.id);
        if (!current || current.status === data.status) return;
        if (data.status === 'deleted') return remove(item.id);
        if (data.status === 'processed') return refreshItem(item.id);
        upsert({ ...current, status: data.status, status_reason: data.reason ?? current.status_reason });
      },
      () => followed.delete(item.id),
    );
    followed.set(item.id, handle);
  }

  function version(item) {
    return [item.status, item.thumbnail_url ? 't' : '', (item.tiles || []).length, (item.labels || []).join(','), item.note || '', formatCounts(item.counts)].join('|');
  }

  function render() {
    for (const label of items.flatMap((i) => i.labels || [])) labelsSeen.add(label);
    for (const found of items.flatMap((i) => Object.keys(i.counts || {}))) objectsSeen.add(found);
    const wanted = new Set(items.map((i) => i.id));
    for (const [id, node] of tiles) {
      if (!wanted.has(id)) {
        node.remove();
        tiles.delete(id);
      }
    }
    selection.keep(wanted);
    const groups = groupByDay(items);
    const sections = new Map([...days.children].map((s) => [s.dataset.day, s]));
    let previousSection = null;
    for (const group of groups) {
      let section = sections.get(group.key);
      sections.delete(group.key);
      if (!section) {
        const title = h('h2', { id: `day-${group.key}` }, dayLabel(group.key));
        section = h(
          'section',
          { class: 'day', dataset: { day: group.key }, 'aria-labelledby': `day-${group.key}` },
          h('header', { class: 'day-head' }, title, h('span', { class: 'day-count muted' }),
            h('button', { type: 'button', class: 'select-day', onclick: () => selection.toggleAll(dayIds(group.key)) }, 'Select day')),
          h('ul', { class: 'grid', 'aria-labelledby': `day-${group.key}` }),
        );
      }
      const expectedSection = previousSection ? previousSection.nextSibling : days.firstChild;
      if (expectedSection !== section) days.insertBefore(section, expectedSection);
      previousSection = section;
      section.querySelector('.day-count').textContent = `${group.items.length} ${group.items.length === 1 ? 'item' : 'items'}`;
      section.querySelector('.select-day').setAttribute('aria-label', `Select day: ${dayLabel(group.key)}`);
      const list = section.querySelector('ul');
      let previous = null;
      for (const item of group.items) {
        let node = tiles.get(item.id);
        if (!node || node.dataset.version !== version(item)) {
          const fresh = tile(item);
          fresh.dataset.version = version(item);
          if (node) node.replaceWith(fresh);
          node = fresh;
          tiles.set(item.id, node);
        }
        const expected = previous ? previous.nextSibling : list.firstChild;
        if (expected !== node) list.insertBefore(node, expected);
        previous = node;
        follow(item);
      }
    }
    for (const stale of sections.values()) stale.remove();
    renderEmpty();
    more.textContent = loading ? 'Loading…' : cursor ? '' : items.length ? `${items.length} shown, that is all.` : '';
    heading.textContent = filtered(state) ? 'Your media (filtered)' : 'Your media';
    renderChips();
  }

  function dayIds(key) {
    return groupByDay(items).find((g) => g.key === key)?.items.map((i) => i.id) || [];
  }

  function renderEmpty() {
    empty.hidden = items.length > 0 || loading || cursor !== null;
    if (empty.hidden) return;
    if (filtered(state)) {
      replace(empty, h('p', null, 'No media match these filters.'),
        h('button', { type: 'button', class: 'primary', onclick: () => setState({ tab: '', device: '', camera: '', status: '', label: '', object: '', from: '', to: '', at: '' }) }, 'Clear filters'));
    } else if (devices && !(devices.items || []).length) {
      replace(empty, h('p', null, 'You own no cameras yet. Media appear here once a camera of yours uploads; ask an administrator to add you as an owner of a device.'));
    } else {
      replace(empty, h('p', null, 'Nothing here yet: drop photos or videos on the page, or use Upload.'));
    }
  }

  async function loadPage(first) {
    const mine = generation;
    loading = true;
    render();
    try {
      const size = Number(api.config.galleryPageSize) || PAGE_SIZE;
      const page = await api.gallery(apiFilters(state), first ? undefined : cursor, size);
      if (mine !== generation) return;
      const known = new Set(items.map((i) => i.id));
      items = [...items, ...page.items.filter((i) => !known.has(i.id))];
      cursor = page.next_cursor;
    } catch (error) {
      if (mine !== generation) return;
      cursor = null;
      if (error.status !== 401) showError(error, { context: 'Loading the gallery' });
    } finally {
      if (mine === generation) {
        loading = false;
        render();
      }
    }
    if (mine === generation && cursor && sentinelVisible()) loadMore();
  }

  function sentinelVisible() {
    const rect = sentinel.getBoundingClientRect();
    return rect.top < window.innerHeight + 600 && !el.hidden;
  }

  function loadMore() {
    if (loading || !cursor || el.hidden) return;
    loadPage(false);
  }

  function reload() {
    generation += 1;
    for (const handle of followed.values()) handle.close();
    followed.clear();
    items = [];
    cursor = null;
    loading = false;
    loadPage(true);
  }

  /** Show a media the page learned about (an upload, a job's result, an arrival), where it belongs. */
  function upsert(item) {
    const index = items.findIndex((i) => i.id === item.id);
    if (!matches(apiFilters(state), item)) {
      if (index >= 0) items.splice(index, 1);
    } else if (index >= 0) {
      items[index] = item;
    } else {
      const last = items[items.length - 1];
      // Older than everything loaded while more pages remain: a later page brings it.
      if (!(cursor && last && newestFirst(item, last) > 0)) {
        items.push(item);
        items.sort(newestFirst);
      }
    }
    render();
  }

  async function refreshItem(id) {
    try {
      const { media } = await api.media(id);
      upsert(media);
    } catch (error) {
      if (error.status === 404) remove(id);
      else if (error.status !== 401) showError(error, { context: 'Refreshing a tile' });
    }
  }

  function remove(id) {
    items = items.filter((i) => i.id !== id);
    followed.get(id)?.close();
    render();
  }

  async function loadDevices() {
    try {
      devices = await api.devices();
    } catch (error) {
      devices = null;
      if (error.status !== 401) showError(error, { context: 'Loading your cameras' });
    }
    devicesLoaded = true;
    renderChips();
    renderEmpty();
    return devices;
  }

  return {
    el,
    start() {
      renderChips();
      reload();
      // one stream for the whole gallery where the deployment serves it (config.liveArrivals)
      if (api.config.liveArrivals) arrivals = followArrivals({
        api,
        onMedia: arrived,
        onReady: () => {
          live = true;
          for (const handle of followed.values()) handle.close();
          followed.clear();
        },
        onUnavailable: () => {
          live = false;
          for (const item of items) follow(item);
        },
      });
      return loadDevices();
    },
    devices: () => devices,
    /** Ask for the user's devices again (a camera seen for the first time gets its chip). */
    reloadDevices: loadDevices,
    items: () => items,
    path: () => `/${searchOfFilters(state)}`,
    reload,
    upsert,
    refreshItem,
    remove,
    /** The media before and after `id` in the grid's order (null at either end). */
    neighbours(id) {
      const index = items.findIndex((i) => i.id === id);
      if (index < 0) return { previous: null, next: null };
      return { previous: items[index - 1] || null, next: items[index + 1] || null };
    },
    /** Move keyboard focus to a tile (back from its detail), scrolled into view. */
    focusTile(id) {
      const link = tiles.get(id)?.querySelector('a.tile');
      if (link) link.focus({ preventScroll: false });
      return Boolean(link);
    },
    show(visible) {
      if (!visible && !el.hidden) scrollY = window.scrollY;
      const wasHidden = el.hidden;
      el.hidden = !visible;
      if (visible) {
        if (wasHidden) requestAnimationFrame(() => window.scrollTo(0, scrollY));
        loadMore();
      }
    },
    destroy() {
      observer.disconnect();
      arrivals?.close();
      for (const handle of followed.values()) handle.close();
    },
  };
}
