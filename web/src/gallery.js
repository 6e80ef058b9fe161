// The gallery: every medium of the user's devices, newest capture first, in pages of the keyset
// cursor loaded as the end of the grid scrolls into view; filter chips; live status badges.

import { h, replace } from './dom.js';
import {
  MEDIA_TERMINAL,
  formatCounts,
  formatMs,
  formatTime,
  statusLabel,
} from './format.js';
import { showError } from './ui.js';

export const PAGE_SIZE = 24;

/** The kind chips ("tabs" of the product documents) and the API filters each one means. */
export const TABS = [
  { id: '', label: 'All', filters: {} },
  { id: 'photos', label: 'Photos', filters: { kind: 'upload', media_type: 'image' } },
  { id: 'videos', label: 'Videos', filters: { kind: 'upload', media_type: 'video' } },
  { id: 'clips', label: 'Clips', filters: { kind: 'clip' } },
  { id: 'snapshots', label: 'Snapshots', filters: { kind: 'snapshot' } },
];
export const STATUSES = ['processed', 'processing', 'pending_upload', 'failed', 'rejected'];

/** Objects offered as filter chips before any media shows them (what cameras are watched for). */
export const COMMON_OBJECTS = ['person', 'dog', 'cat', 'car', 'vehicle', 'bicycle'];

/** The page's filter state from a query string (`?tab=clips&camera=dev/cam&status=&label=&object=`). */
export function filtersFromSearch(search) {
  const params = new URLSearchParams(search);
  const [device, ...camera] = (params.get('camera') || '').split('/');
  return {
    tab: TABS.some((t) => t.id === params.get('tab')) ? params.get('tab') : '',
    device: device || '',
    camera: camera.join('/'),
    status: params.get('status') || '',
    label: params.get('label') || '',
    object: params.get('object') || '',
  };
}

/** The query string of a filter state ("" for none). */
export function searchOfFilters(state) {
  const params = new URLSearchParams();
  if (state.tab) params.set('tab', state.tab);
  if (state.device) params.set('camera', state.camera ? `${state.device}/${state.camera}` : state.device);
  if (state.status) params.set('status', state.status);
  if (state.label) params.set('label', state.label);
  if (state.object) params.set('object', state.object);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The `GET /v1/media` filters of a filter state. */
export function apiFilters(state) {
  const tab = TABS.find((t) => t.id === state.tab) || TABS[0];
  const filters = { ...tab.filters };
  if (state.device) filters.device_id = state.device;
  if (state.camera) filters.camera_id = state.camera;
  if (state.status) filters.status = state.status;
  if (state.label) filters.label = state.label;
  if (state.object) filters.object = state.object;
  return filters;
}

/** Whether a media summary passes `GET /v1/media` filters (for items the page learns of). */
export function matches(filters, item) {
  if (item.status === 'deleted' && filters.status !== 'deleted') return false;
  if (filters.label && !(item.labels || []).includes(filters.label)) return false;
  if (filters.object && !(filters.object in (item.counts || {}))) return false;
  for (const key of ['device_id', 'camera_id', 'kind', 'media_type', 'status', 'parent_id']) {
    if (filters[key] && item[key] !== filters[key]) return false;
  }
  return true;
}

/** The gallery's order: captured_at desc, then id desc. Negative when `a` comes first. */
export function newestFirst(a, b) {
  if (a.captured_at !== b.captured_at) return a.captured_at < b.captured_at ? 1 : -1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? 1 : -1;
}

function tileName(item) {
  return item.original_filename || `${item.camera_id} ${item.kind}`;
}

function statusBadge(status) {
  return h('span', { class: `badge status-${status}`, dataset: { status } }, statusLabel(status));
}

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
  const tiles = new Map();
  const followed = new Map();
  const labelsSeen = new Set();
  const objectsSeen = new Set(COMMON_OBJECTS);

  const grid = h('div', { class: 'grid', role: 'list', 'aria-label': 'Media' });
  const empty = h('p', { class: 'empty', hidden: true }, 'Nothing here yet: drop photos or videos on the page to upload them.');
  const more = h('p', { class: 'more', 'aria-live': 'polite' });
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  const chips = h('nav', { class: 'filters', 'aria-label': 'Filters' });
  const el = h('section', { class: 'gallery', 'aria-label': 'Gallery' }, chips, grid, empty, more, sentinel);

  const observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore();
    },
    { rootMargin: '600px 0px' },
  );
  observer.observe(sentinel);

  function chip(label, active, onclick, extra = {}) {
    return h(
      'button',
      { type: 'button', class: active ? 'chip active' : 'chip', 'aria-pressed': active ? 'true' : 'false', onclick, ...extra },
      label,
    );
  }

  function setState(next) {
    state = { ...state, ...next };
    const search = searchOfFilters(state);
    window.history.replaceState(window.history.state, '', `${window.location.pathname}${search}`);
    reload();
  }

  let chipsKey = '';

  function renderChips() {
    const key = JSON.stringify([state, [...labelsSeen].sort(), [...objectsSeen].sort(), devices]);
    if (key === chipsKey) return;
    chipsKey = key;
    const groups = [];
    groups.push(
      h(
        'div',
        { class: 'chip-group', role: 'group', 'aria-label': 'Kind' },
        TABS.map((t) => chip(t.label, state.tab === t.id, () => setState({ tab: t.id }))),
      ),
    );
    const cameras = [];
    for (const device of devices?.items || []) {
      for (const camera of device.cameras || []) cameras.push({ device: device.device_id, camera });
    }
    if (cameras.length) {
      const many = new Set(cameras.map((c) => c.device)).size > 1;
      groups.push(
        h(
          'div',
          { class: 'chip-group', role: 'group', 'aria-label': 'Camera' },
          chip('All cameras', !state.device, () => setState({ device: '', camera: '' })),
          cameras.map((c) =>
            chip(
              many ? `${c.device} · ${c.camera}` : c.camera,
              state.device === c.device && state.camera === c.camera,
              () => setState({ device: c.device, camera: c.camera }),
            ),
          ),
        ),
      );
    }
    groups.push(
      h(
        'div',
        { class: 'chip-group', role: 'group', 'aria-label': 'Status' },
        chip('Any status', !state.status, () => setState({ status: '' })),
        STATUSES.map((s) => chip(statusLabel(s), state.status === s, () => setState({ status: s }))),
      ),
    );
    groups.push(
      h(
        'div',
        { class: 'chip-group', role: 'group', 'aria-label': 'Found' },
        chip('Anything found', !state.object, () => setState({ object: '' })),
        [...objectsSeen].sort().map((o) => chip(o, state.object === o, () => setState({ object: o }))),
      ),
    );
    const labelInput = h('input', {
      type: 'search',
      class: 'label-input',
      placeholder: 'label…',
      'aria-label': 'Filter by label',
      value: state.label,
      onchange: (event) => setState({ label: event.target.value.trim() }),
    });
    groups.push(
      h(
        'div',
        { class: 'chip-group', role: 'group', 'aria-label': 'Label' },
        chip('Any label', !state.label, () => setState({ label: '' })),
        [...labelsSeen].sort().map((l) => chip(`#${l}`, state.label === l, () => setState({ label: l }))),
        labelInput,
      ),
    );
    replace(chips, groups);
  }

  function tile(item) {
    const thumb = item.thumbnail_url
      ? h('img', { src: item.thumbnail_url, alt: tileName(item), loading: 'lazy', decoding: 'async' })
      : h('div', { class: 'placeholder', 'aria-hidden': 'true' }, item.media_type === 'video' ? '▶' : '▣');
    const link = h(
      'a',
      {
        class: 'tile',
        href: `/media/${item.id}`,
        role: 'listitem',
        'aria-label': `${tileName(item)}, ${statusLabel(item.status)}`,
        dataset: { id: item.id, status: item.status, kind: item.kind },
        onclick: (event) => {
          if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
          event.preventDefault();
          navigate(`/media/${item.id}`);
        },
      },
      h(
        'div',
        { class: 'thumb' },
        thumb,
        statusBadge(item.status),
        item.kind !== 'upload' && h('span', { class: 'kind' }, item.kind),
        item.duration_ms != null && h('span', { class: 'duration' }, formatMs(item.duration_ms)),
      ),
      h(
        'div',
        { class: 'caption' },
        h('span', { class: 'name' }, tileName(item)),
        h('span', { class: 'when' }, `${item.camera_id} · ${formatTime(item.captured_at)}`),
        formatCounts(item.counts) && h('span', { class: 'counts' }, formatCounts(item.counts)),
        (item.labels || []).length > 0 && h('span', { class: 'labels' }, item.labels.map((l) => `#${l}`).join(' ')),
      ),
    );
    return link;
  }

  function follow(item) {
    if (MEDIA_TERMINAL.has(item.status) || followed.has(item.id)) return;
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
    let previous = null;
    for (const item of items) {
      let node = tiles.get(item.id);
      if (!node || node.dataset.version !== version(item)) {
        const fresh = tile(item);
        fresh.dataset.version = version(item);
        if (node) node.replaceWith(fresh);
        node = fresh;
        tiles.set(item.id, node);
      }
      const expected = previous ? previous.nextSibling : grid.firstChild;
      if (expected !== node) grid.insertBefore(node, expected);
      previous = node;
      follow(item);
    }
    empty.hidden = items.length > 0 || loading || cursor !== null;
    more.textContent = loading ? 'Loading…' : cursor ? '' : items.length ? `${items.length} shown, that is all.` : '';
    renderChips();
  }

  function version(item) {
    return [item.status, item.thumbnail_url ? 't' : '', (item.labels || []).join(','), item.note || '', formatCounts(item.counts)].join('|');
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
      showError(error, { context: 'Loading the gallery' });
    } finally {
      if (mine === generation) {
        loading = false;
        render();
      }
    }
    // Still room below (a tall screen, or a page of few tiles): the sentinel stays in view.
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

  /** Show a media the page learned about (an upload, a job's result), where it belongs. */
  function upsert(item) {
    const filters = apiFilters(state);
    const index = items.findIndex((i) => i.id === item.id);
    if (!matches(filters, item)) {
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
      else showError(error, { context: 'Refreshing a tile' });
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
      showError(error, { context: 'Loading your cameras' });
    }
    renderChips();
    return devices;
  }

  return {
    el,
    start() {
      renderChips();
      reload();
      return loadDevices();
    },
    devices: () => devices,
    path: () => `/${searchOfFilters(state)}`,
    reload,
    upsert,
    refreshItem,
    remove,
    show(visible) {
      el.hidden = !visible;
      if (visible) loadMore();
    },
    destroy() {
      observer.disconnect();
      for (const handle of followed.values()) handle.close();
    },
  };
}
