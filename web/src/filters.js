// The gallery's filters: their state in the URL's query string, the `GET /v1/media` filters they
// mean, and the chip groups that set them. A chip group is one entry of CHIP_GROUPS (a function
// of the page's context returning its label and chips), so a new filter is one function more.

import { h } from './dom.js';
import { statusLabel } from './format.js';

/** The kind chips and the API filters each one means. */
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

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const HOUR = /^\d{4}-\d{2}-\d{2}T\d{2}$/;
const KEYS = ['tab', 'device', 'camera', 'status', 'label', 'object', 'from', 'to', 'at'];

/** The page's filter state from a query string (`?tab=clips&camera=dev/cam&object=dog&from=2026-12-01`). */
export function filtersFromSearch(search) {
  const params = new URLSearchParams(search);
  const [device, ...camera] = (params.get('camera') || '').split('/');
  const valid = (value, pattern) => (pattern.test(value || '') ? value : '');
  return {
    tab: TABS.some((t) => t.id === params.get('tab')) ? params.get('tab') : '',
    device: device || '',
    camera: camera.join('/'),
    status: params.get('status') || '',
    label: params.get('label') || '',
    object: params.get('object') || '',
    from: valid(params.get('from'), DAY),
    to: valid(params.get('to'), DAY),
    at: valid(params.get('at'), HOUR),
  };
}

/** The query string of a filter state ("" for none). */
export function searchOfFilters(state) {
  const params = new URLSearchParams();
  if (state.tab) params.set('tab', state.tab);
  if (state.device) params.set('camera', state.camera ? `${state.device}/${state.camera}` : state.device);
  for (const key of ['status', 'label', 'object', 'from', 'to', 'at']) if (state[key]) params.set(key, state[key]);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Whether any filter is set (an empty grid then says so and offers to clear them). */
export function filtered(state) {
  return KEYS.some((key) => state[key]);
}

/** Local midnight of a `YYYY-MM-DD` day (plus `days`), as an ISO instant. */
export function localDayStart(day, days = 0) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d + days).toISOString();
}

/** The end of a local `YYYY-MM-DDTHH` hour, as an ISO instant. */
export function localHourEnd(hour) {
  const [day, hh] = hour.split('T');
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d, Number(hh) + 1).toISOString();
}

/** The `GET /v1/media` filters of a filter state (times in the reader's time zone). */
export function apiFilters(state) {
  const tab = TABS.find((t) => t.id === state.tab) || TABS[0];
  const filters = { ...tab.filters };
  if (state.device) filters.device_id = state.device;
  if (state.camera) filters.camera_id = state.camera;
  if (state.status) filters.status = state.status;
  if (state.label) filters.label = state.label;
  if (state.object) filters.object = state.object;
  if (state.from) filters.captured_after = localDayStart(state.from);
  const ends = [];
  if (state.to) ends.push(localDayStart(state.to, 1));
  if (state.at) ends.push(localHourEnd(state.at));
  if (ends.length) filters.captured_before = ends.sort()[0];
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
  const at = Date.parse(item.captured_at);
  if (filters.captured_after && at < Date.parse(filters.captured_after)) return false;
  if (filters.captured_before && at >= Date.parse(filters.captured_before)) return false;
  return true;
}

function chip(label, active, onclick) {
  return h(
    'button',
    { type: 'button', class: active ? 'chip active' : 'chip', 'aria-pressed': active ? 'true' : 'false', onclick },
    label,
  );
}

/** The (device, camera) pairs of `GET /v1/devices`. */
export function cameraPairs(devices) {
  const pairs = [];
  for (const device of devices?.items || []) {
    for (const camera of device.cameras || []) pairs.push({ device: device.device_id, camera });
  }
  return pairs;
}

const kindGroup = ({ state, set }) => ({
  label: 'Kind',
  chips: TABS.map((t) => chip(t.label, state.tab === t.id, () => set({ tab: t.id }))),
});

const cameraGroup = ({ state, set, cameras, devicesLoaded }) => {
  if (!cameras.length && devicesLoaded) return null; // while loading the row is there already
  const many = new Set(cameras.map((c) => c.device)).size > 1;
  return {
    label: 'Camera',
    chips: [
      chip('All cameras', !state.device, () => set({ device: '', camera: '' })),
      ...cameras.map((c) =>
        chip(
          many ? `${c.device} · ${c.camera}` : c.camera,
          state.device === c.device && state.camera === c.camera,
          () => set({ device: c.device, camera: c.camera }),
        ),
      ),
    ],
  };
};

const statusGroup = ({ state, set }) => ({
  label: 'Status',
  chips: [
    chip('Any status', !state.status, () => set({ status: '' })),
    ...STATUSES.map((s) => chip(statusLabel(s), state.status === s, () => set({ status: s }))),
  ],
});

const foundGroup = ({ state, set, objects }) => ({
  label: 'Found',
  chips: [
    chip('Anything found', !state.object, () => set({ object: '' })),
    ...objects.map((o) => chip(o, state.object === o, () => set({ object: o }))),
  ],
});

const labelGroup = ({ state, set, labels }) => ({
  label: 'Label',
  chips: [
    chip('Any label', !state.label, () => set({ label: '' })),
    ...labels.map((l) => chip(`#${l}`, state.label === l, () => set({ label: l }))),
    h('input', {
      type: 'search',
      class: 'label-input',
      placeholder: 'label…',
      'aria-label': 'Filter by label',
      value: state.label,
      onchange: (event) => set({ label: event.target.value.trim() }),
    }),
  ],
});

const timeGroup = ({ state, set }) => {
  const dateInput = (label, key) =>
    h('label', { class: 'date-field' }, label, ' ',
      h('input', { type: 'date', value: state[key], onchange: (event) => set({ [key]: event.target.value, at: '' }) }),
    );
  const jump = h('input', {
    type: 'datetime-local',
    step: 3600,
    'aria-label': 'Jump to a date and hour',
    value: state.at ? `${state.at}:00` : '',
    onchange: (event) => set({ at: event.target.value ? event.target.value.slice(0, 13) : '' }),
  });
  return {
    label: 'Time',
    chips: [
      dateInput('From', 'from'),
      dateInput('To', 'to'),
      h('label', { class: 'date-field' }, 'Jump to ', jump),
      (state.from || state.to || state.at) && chip('Any time', false, () => set({ from: '', to: '', at: '' })),
    ],
  };
};

/**
 * The chip groups, in order. Each takes `{state, set, cameras, objects, labels}` and returns
 * `{label, chips}` or null (nothing to offer).
 */
export const CHIP_GROUPS = [kindGroup, cameraGroup, statusGroup, foundGroup, labelGroup, timeGroup];

/** Render every chip group into `container`'s children. */
export function chipGroups(context) {
  return CHIP_GROUPS.map((group) => group(context))
    .filter(Boolean)
    .map((group) => h('div', { class: 'chip-group', role: 'group', 'aria-label': group.label }, group.chips));
}
