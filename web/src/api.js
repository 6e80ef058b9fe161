// The HTTP API of the pipeline (docs/openapi.yaml), as the page calls it: one base URL (the
// load balancer in the cloud, the gateway locally: `apiBaseUrl` of /config.json), a bearer
// token on every call, JSON in and out, errors as ApiError(code, message).

/** An error answer of the API (`{code, message, details}`), or a failure to reach it. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0: no answer)
   * @param {string} code the API's stable code (`not_found`, `precondition_failed`, ...)
   * @param {string} message the API's sentence for people
   * @param {any} [details]
   */
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Join the API's base URL (which may carry a path) and an API path. */
export function joinUrl(base, path) {
  return base.replace(/\/+$/, '') + path;
}

/** A query string of the non-empty values of `params` ("" when none). */
export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value == null || value === '') continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (body && typeof body.code === 'string') {
    return new ApiError(response.status, body.code, body.message || '', body.details);
  }
  return new ApiError(
    response.status,
    `http_${response.status}`,
    `${response.url} answered ${response.status} ${response.statusText}`.trim(),
  );
}

/**
 * The API client.
 * @param {{apiBaseUrl: string}} config
 * @param {() => string | null} token the current bearer token
 * @param {(error: ApiError) => void} onUnauthenticated called on every 401
 */
export function createApi(config, token, onUnauthenticated) {
  /** The absolute URL of an API path (event streams open it with EventSource). */
  const url = (path) => joinUrl(config.apiBaseUrl, path);

  async function call(method, path, { query, body, headers, contentType, anonymous, bytes } = {}) {
    const target = url(path) + queryString(query);
    const init = { method, headers: { Accept: bytes ? '*/*' : 'application/json', ...(headers || {}) } };
    const bearer = anonymous ? null : token();
    if (bearer) init.headers.Authorization = `Bearer ${bearer}`;
    if (body !== undefined) {
      init.headers['Content-Type'] = contentType || 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(target, init);
    } catch (error) {
      throw new ApiError(
        0,
        'network_error',
        `could not reach ${new URL(target).origin} (${error.message}): the API is down, or it ` +
          'does not allow this page\'s origin (CORS)',
      );
    }
    if (!response.ok) {
      const error = await errorOf(response);
      if (response.status === 401) onUnauthenticated(error);
      throw error;
    }
    const etag = response.headers.get('ETag');
    if (bytes) return { status: response.status, etag, body: new Uint8Array(await response.arrayBuffer()) };
    const text = response.status === 204 ? '' : await response.text();
    return { status: response.status, etag, body: text ? JSON.parse(text) : null };
  }

  const enc = encodeURIComponent;

  return {
    config,
    url,
    /** `GET /v1/media`: one page of the gallery. */
    gallery: async (filters, cursor, limit = 24) =>
      (await call('GET', '/v1/media', { query: { ...filters, cursor, limit } })).body,
    /** `GET /v1/devices`: the devices the user owns, with their cameras. */
    devices: async () => (await call('GET', '/v1/devices')).body,
    /** `GET /v1/media/{id}`: the detail and its ETag. */
    media: async (id) => {
      const answer = await call('GET', `/v1/media/${enc(id)}`);
      return { media: answer.body, etag: answer.etag };
    },
    /** `GET /v1/media/{id}/download`: a signed GET of the verified bytes. */
    download: async (id) => (await call('GET', `/v1/media/${enc(id)}/download`)).body,
    /** `GET /v1/media/{id}/content`: the verified bytes through the API (for an archive). */
    content: async (id) => (await call('GET', `/v1/media/${enc(id)}/content`, { bytes: true })).body,
    /** `GET /v1/s/{token}/view`: a share link's page data (no account). */
    shareView: async (token) => (await call('GET', `/v1/s/${enc(token)}/view`, { anonymous: true })).body,
    /** `PATCH /v1/media/{id}` (JSON merge patch with If-Match). */
    patch: async (id, patch, etag) => {
      const answer = await call('PATCH', `/v1/media/${enc(id)}`, {
        body: patch,
        headers: { 'If-Match': etag },
        contentType: 'application/merge-patch+json',
      });
      return { media: answer.body, etag: answer.etag };
    },
    /** `DELETE /v1/media/{id}`. */
    remove: async (id) => {
      await call('DELETE', `/v1/media/${enc(id)}`);
    },
    /** `POST /v1/media`: declare an upload; the answer carries the signed PUT. */
    declare: async (body) => (await call('POST', '/v1/media', { body })).body,
    /** `POST /v1/media/{id}/clips`. */
    clip: async (id, startMs, durationMs) =>
      (
        await call('POST', `/v1/media/${enc(id)}/clips`, {
          body: { start_ms: startMs, duration_ms: durationMs },
        })
      ).body,
    /** `POST /v1/media/{id}/snapshots`. */
    snapshot: async (id, atMs) =>
      (await call('POST', `/v1/media/${enc(id)}/snapshots`, { body: { at_ms: atMs } })).body,
    /** `GET /v1/media/{id}/jobs`: the media's jobs, newest first. */
    jobs: async (id) => (await call('GET', `/v1/media/${enc(id)}/jobs`)).body,
    /** `GET /v1/jobs/{id}`. */
    job: async (id) => (await call('GET', `/v1/jobs/${enc(id)}`)).body,
    /** `POST /v1/{media|jobs}/{id}/events/ticket`: a short-lived ticket for one stream. */
    ticket: async (kind, id) =>
      (await call('POST', `/v1/${kind === 'job' ? 'jobs' : 'media'}/${enc(id)}/events/ticket`))
        .body,
    /** `POST /v1/events/stream/ticket`: a ticket for the stream of every media of the user's devices. */
    streamTicket: async () => (await call('POST', '/v1/events/stream/ticket')).body,
    /** `GET /v1/media/{id}/shares`. */
    shares: async (id) => (await call('GET', `/v1/media/${enc(id)}/shares`)).body,
    /** `POST /v1/media/{id}/shares`. */
    createShare: async (id, ttlSeconds, note) =>
      (
        await call('POST', `/v1/media/${enc(id)}/shares`, {
          body: note ? { ttl_seconds: ttlSeconds, note } : { ttl_seconds: ttlSeconds },
        })
      ).body,
    /** `GET /v1/events`: one page of events, newest first (filters as the API names them). */
    events: async (filters, cursor, limit = 50) =>
      (await call('GET', '/v1/events', { query: { ...filters, cursor, limit } })).body,
    /** `POST /v1/events/{id}/review`: mark reviewed (or not); answers the event. */
    reviewEvent: async (id, reviewed = true) =>
      (await call('POST', `/v1/events/${enc(id)}/review`, { body: { reviewed } })).body,
    /** `POST /v1/events/review`: every unreviewed event the filters select (at most 1000). */
    reviewEvents: async (filters) =>
      (await call('POST', '/v1/events/review', { body: filters || {} })).body,
    /** `DELETE /v1/shares/{share_id}`. */
    revokeShare: async (shareId) => {
      await call('DELETE', `/v1/shares/${enc(shareId)}`);
    },
  };
}
