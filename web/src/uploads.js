// The upload panel and the page-wide drop zone: files dropped (or chosen) go to the camera
// picked here, each with its own row: hashing, the PUT's real progress, then the live status.

import { h, replace } from './dom.js';
import { formatBytes, formatPercent, statusLabel } from './format.js';
import { uploadFile } from './upload.js';
import { showError } from './ui.js';

const ACCEPT = [
  'image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp', 'image/tiff',
  'video/mp4', 'video/quicktime', 'video/webm', 'video/x-msvideo', 'video/x-matroska', 'video/mp2t',
  '.avi', '.mkv', '.ts', '.m2ts', '.mts', '.mov',
].join(',');
const LAST_CAMERA_KEY = 'media-gallery.last-camera';

/** The (device, camera) choices of `GET /v1/devices`. */
export function cameraChoices(devices) {
  const choices = [];
  for (const device of devices?.items || []) {
    for (const camera of device.cameras || []) choices.push({ device: device.device_id, camera });
  }
  return choices;
}

/**
 * @param {{api: any, streams: any, gallery: ReturnType<import('./gallery.js').createGallery>,
 *   navigate: (path: string) => void}} deps
 */
export function createUploads({ api, streams, gallery, navigate }) {
  const device = h('select', { 'aria-label': 'Device', onchange: () => fillCameras() });
  const cameras = h('datalist', { id: 'camera-choices' });
  const camera = h('input', { type: 'text', list: 'camera-choices', 'aria-label': 'Camera', placeholder: 'camera id', pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,127}', required: true });
  const labels = h('input', { type: 'text', 'aria-label': 'Labels for the upload', placeholder: 'labels, comma-separated' });
  const input = h('input', {
    type: 'file',
    multiple: true,
    accept: ACCEPT,
    'aria-label': 'Choose files to upload',
    onchange: () => {
      start([...input.files]);
      input.value = '';
    },
  });
  const list = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  const hint = h('p', { class: 'muted' });
  const panel = h(
    'aside',
    { class: 'upload-panel', 'aria-label': 'Upload', hidden: true },
    h('h2', null, 'Upload'),
    hint,
    h('div', { class: 'row' }, h('label', null, 'Device ', device), h('label', null, 'Camera ', camera, cameras)),
    h('div', { class: 'row' }, labels),
    h('div', { class: 'row' }, h('label', { class: 'file' }, 'Choose files… ', input), h('span', { class: 'muted' }, 'or drop them anywhere on the page')),
    list,
  );
  const dropzone = h('div', { class: 'dropzone', hidden: true, 'aria-hidden': 'true' }, h('p', null, 'Drop to upload'));

  function choices() {
    return cameraChoices(gallery.devices());
  }

  function fillDevices() {
    const owned = gallery.devices()?.items || [];
    replace(device, owned.map((d) => h('option', { value: d.device_id }, d.device_id)));
    const last = lastUsed();
    if (last && owned.some((d) => d.device_id === last.device)) device.value = last.device;
    hint.textContent = owned.length
      ? 'Files go straight to storage through a signed URL, then through verification and detection.'
      : 'You own no devices yet, so there is no camera to upload for.';
    fillCameras();
  }

  function lastUsed() {
    try {
      return JSON.parse(localStorage.getItem(LAST_CAMERA_KEY) || 'null');
    } catch {
      return null;
    }
  }

  function fillCameras() {
    const known = choices().filter((c) => c.device === device.value).map((c) => c.camera);
    replace(cameras, known.map((c) => h('option', { value: c })));
    const last = lastUsed();
    if (last?.device === device.value && last.camera) camera.value = last.camera;
    if (!camera.value || !(known.includes(camera.value) || last?.camera === camera.value)) camera.value = known[0] || 'web';
  }

  function target() {
    if (!device.value) throw Object.assign(new Error('choose a device you own first'), { code: 'no_device' });
    if (!camera.reportValidity()) throw Object.assign(new Error('the camera id is not valid'), { code: 'invalid_camera' });
    localStorage.setItem(LAST_CAMERA_KEY, JSON.stringify({ device: device.value, camera: camera.value }));
    return {
      deviceId: device.value,
      cameraId: camera.value,
      labels: labels.value.split(',').map((l) => l.trim()).filter(Boolean),
    };
  }

  function row(file) {
    const bar = h('progress', { max: file.size || 1, value: 0, 'aria-label': `Upload of ${file.name}` });
    const phase = h('span', { class: 'phase', role: 'status' }, 'waiting');
    const amount = h('span', { class: 'amount' }, `0 B of ${formatBytes(file.size)}`);
    const open = h('a', { hidden: true, href: '#' }, 'Open');
    const item = h('li', { class: 'upload', dataset: { name: file.name } }, h('span', { class: 'name' }, file.name), bar, amount, phase, open);
    list.prepend(item);
    return {
      item,
      update(state) {
        item.dataset.phase = state.phase;
        if (state.id && open.hidden) {
          open.hidden = false;
          open.href = `/media/${state.id}`;
          open.onclick = (event) => {
            event.preventDefault();
            navigate(`/media/${state.id}`);
          };
          item.dataset.id = state.id;
        }
        if (state.phase === 'hashing') phase.textContent = `hashing ${formatPercent(state.fraction)}`;
        if (state.phase === 'declaring') phase.textContent = 'declaring';
        if (state.phase === 'duplicate') {
          item.dataset.status = state.status;
          bar.value = bar.max;
          amount.textContent = `nothing sent: ${formatBytes(file.size)} already stored`;
          phase.textContent = `already in the gallery (${statusLabel(state.status)})`;
        }
        if (state.phase === 'uploading' || state.phase === 'uploaded') {
          bar.value = state.loaded;
          amount.textContent = `${formatBytes(state.loaded)} of ${formatBytes(state.total)}`;
          phase.textContent = state.phase === 'uploaded' ? 'uploaded' : `uploading ${formatPercent(state.loaded / (state.total || 1))}`;
        }
        if (state.phase === 'status') {
          item.dataset.status = state.status;
          phase.textContent = statusLabel(state.status);
          if (state.event?.reason) phase.textContent += ` (${state.event.reason})`;
        }
        if (state.phase === 'error') {
          item.dataset.status = 'error';
          phase.textContent = `${state.error.code || 'error'}: ${state.error.message}`;
        }
      },
    };
  }

  async function startOne(file, where) {
    const view = row(file);
    try {
      const id = await uploadFile(api, streams, file, where, (state) => {
        view.update(state);
        // The tile appears once declared and follows its own status from then on.
        if (state.phase === 'declared') gallery.refreshItem(state.id);
      });
      gallery.refreshItem(id);
    } catch (error) {
      view.update({ phase: 'error', error });
      showError(error, { context: `Uploading ${file.name}` });
    }
  }

  let ready = Promise.resolve();

  async function start(files) {
    if (!files.length) return;
    panel.hidden = false;
    await ready; // files dropped before the user's devices are known wait for them
    let where;
    try {
      where = target();
    } catch (error) {
      showError(error, { context: 'Upload' });
      return;
    }
    for (const file of files) startOne(file, where);
  }

  // Page-wide drop zone (its listeners go with the session: `destroy()`).
  const listening = new AbortController();
  const on = (type, handler) => window.addEventListener(type, handler, { signal: listening.signal });
  let depth = 0;
  const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes('Files');
  on('dragenter', (event) => {
    if (!hasFiles(event)) return;
    depth += 1;
    dropzone.hidden = false;
    const c = choices().find((x) => x.device === device.value && x.camera === camera.value);
    dropzone.firstChild.textContent = `Drop to upload to ${device.value || '…'} · ${c ? c.camera : camera.value}`;
  });
  on('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) dropzone.hidden = true;
  });
  on('dragover', (event) => {
    if (hasFiles(event)) event.preventDefault();
  });
  on('drop', (event) => {
    if (!event.dataTransfer?.files?.length) return;
    event.preventDefault();
    depth = 0;
    dropzone.hidden = true;
    start([...event.dataTransfer.files]);
  });

  return {
    panel,
    dropzone,
    toggle() {
      panel.hidden = !panel.hidden;
    },
    /** Fill the device choice once `loading` (the user's devices) settles; drops wait. */
    devicesFrom(loading) {
      ready = loading.then(fillDevices, fillDevices);
    },
    destroy: () => listening.abort(),
  };
}
