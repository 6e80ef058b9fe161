// An upload as a camera makes it (docs/CONTRACTS.md, "Declaring a capture"): hash the bytes,
// declare them with `POST /v1/media` for one of the user's devices and cameras, PUT the bytes
// straight to the signed URL with exactly the signed headers, then follow the media's status.

import { ApiError } from './api.js';
import { digestFile } from './hashing.js';

// Headers a page may not set itself; the browser sends them (Content-Length from the body).
const FORBIDDEN_HEADERS = new Set(['content-length', 'host', 'connection', 'expect']);

/** A message id of this page's own: unique per upload, valid as an id segment. */
export function newMessageId(now = Date.now(), random = crypto.getRandomValues(new Uint8Array(6))) {
  return `web-${now.toString(36)}-${Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The capture time of a dropped file: its modification time, never in the future. */
export function capturedAt(file, now = Date.now()) {
  const modified = Number.isFinite(file.lastModified) && file.lastModified > 0 ? file.lastModified : now;
  return new Date(Math.min(modified, now)).toISOString();
}

/**
 * The MIME type of a file from its first bytes, for the containers cameras write that browsers
 * name inconsistently (AVI, Matroska/WebM, MPEG-TS, QuickTime); the browser's own type
 * otherwise. The server sniffs the bytes again and refuses a type that does not match.
 */
export function sniffedType(head, fallback) {
  const ascii = (from, to) => String.fromCharCode(...head.slice(from, to));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') return 'video/x-msvideo';
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) {
    return ascii(0, 64).includes('webm') ? 'video/webm' : 'video/x-matroska';
  }
  for (const [size, offset] of [[188, 0], [192, 4]]) {
    if (head.length > offset + size * 3 && [0, 1, 2, 3].every((i) => head[offset + size * i] === 0x47)) return 'video/mp2t';
  }
  if (ascii(4, 8) === 'ftyp' && ascii(8, 10) === 'qt') return 'video/quicktime';
  return fallback || 'application/octet-stream';
}

/** The declaration body of `POST /v1/media` for a file on a device's camera. */
export function declaration(file, facts, { deviceId, cameraId, labels, note, messageId, now }) {
  const body = {
    device_id: deviceId,
    camera_id: cameraId,
    message_id: messageId,
    captured_at: capturedAt(file, now),
    mime_type: facts.mimeType || file.type || 'application/octet-stream',
    size_bytes: facts.size,
    sha256: facts.sha256,
    md5: facts.md5,
    original_filename: file.name,
    // One signed PUT whatever the size: the page has hashed the whole file already, and an XHR
    // streams the File from disk; without this the server offers a resumable upload from
    // RESUMABLE_THRESHOLD_BYTES up, whose session or multipart completion a page cannot own.
    upload_protocol: 'single',
  };
  if (labels && labels.length) body.labels = labels;
  if (note) body.note = note;
  return body;
}

/**
 * PUT a file to a signed upload, reporting real progress from XHR upload events.
 * @param {{method: string, url: string, headers: Record<string, string>}} upload
 * @param {Blob} file
 * @param {(loaded: number, total: number) => void} onProgress
 */
export function putFile(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method || 'PUT', upload.url);
    for (const [name, value] of Object.entries(upload.headers || {})) {
      if (!FORBIDDEN_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener('progress', (event) => {
      // Chromium's first event may carry a bogus total (2^32 - 1): the file's size is the total.
      onProgress(Math.min(event.loaded, file.size), file.size);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve();
      } else {
        reject(
          new ApiError(
            xhr.status,
            'upload_refused',
            `storage refused the upload: ${xhr.status} ${xhr.statusText} ${xhr.responseText.slice(0, 200)}`.trim(),
          ),
        );
      }
    });
    xhr.addEventListener('error', () =>
      reject(new ApiError(0, 'upload_failed', 'the upload to storage failed (network or CORS)')),
    );
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'upload_aborted', 'upload cancelled')));
    xhr.send(file);
  });
}

/**
 * Hash, declare and PUT one file; then follow the media over SSE until it is terminal.
 * @param {ReturnType<import('./api.js').createApi>} api
 * @param {import('./streams.js').StreamPool} streams
 * @param {File} file
 * @param {{deviceId: string, cameraId: string, labels?: string[], note?: string}} target
 * @param {(state: {phase: string, fraction?: number, loaded?: number, total?: number,
 *   media?: object, id?: string, status?: string, error?: Error}) => void} onState
 */
export async function uploadFile(api, streams, file, target, onState) {
  onState({ phase: 'hashing', fraction: 0 });
  const facts = await digestFile(file, (fraction) => onState({ phase: 'hashing', fraction }));
  facts.mimeType = sniffedType(new Uint8Array(await file.slice(0, 1024).arrayBuffer()), file.type);
  onState({ phase: 'declaring' });
  const created = await api.declare(
    declaration(file, facts, { ...target, messageId: newMessageId() }),
  );
  if (created.deduplicated) {
    // The device already has these bytes: that media is the answer, nothing is sent again.
    onState({ phase: 'duplicate', id: created.id, status: created.status });
    return created.id;
  }
  onState({ phase: 'declared', id: created.id, status: created.status });
  if (created.upload) {
    onState({ phase: 'uploading', id: created.id, loaded: 0, total: file.size });
    await putFile(created.upload, file, (loaded, total) =>
      onState({ phase: 'uploading', id: created.id, loaded, total }),
    );
  }
  onState({ phase: 'uploaded', id: created.id, loaded: file.size, total: file.size });
  await new Promise((resolve, reject) => {
    streams.follow(
      'media',
      created.id,
      (data) => onState({ phase: 'status', id: created.id, status: data.status, event: data }),
      (reason) => (reason instanceof Error ? reject(reason) : resolve()),
    );
  });
  return created.id;
}
