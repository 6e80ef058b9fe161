// The gallery's one live stream: every media of the user's devices as its status changes
// (`GET /v1/events/stream`, docs/CONTRACTS.md "Live status"), opened with a stream ticket and
// resumed after the last event id when it ends or breaks. A deployment without that stream (its
// ticket route answers 404) has no live arrivals; the page then follows each unfinished tile's
// own stream as before.

const RETRY_MS = [1000, 2000, 5000, 10000];

/**
 * Follow every media of the user's devices (`event: media`) and, with `onEvent`, their detection
 * events (`event: event`).
 * @param {{api: any, onMedia?: (doc: object) => void, onEvent?: (doc: object) => void,
 *   onReady?: () => void, onUnavailable?: (error: Error) => void}} options
 * @returns {{close: () => void}}
 */
export function followArrivals({ api, onMedia, onEvent, onReady, onUnavailable }) {
  let source = null;
  let closed = false;
  let lastId = null;
  let failures = 0;
  let timer = null;

  async function open() {
    if (closed) return;
    let ticket;
    try {
      ticket = await api.streamTicket();
    } catch (error) {
      if ([401, 403, 404, 405].includes(error.status)) {
        closed = true;
        onUnavailable?.(error);
        return;
      }
      retry();
      return;
    }
    if (closed) return;
    const resume = lastId ? `&last_event_id=${encodeURIComponent(lastId)}` : '';
    // the API's one base URL where the client has it (`api.url`), else list_media's
    const base = api.url ? api.url(ticket.url) : api.config.listMediaUrl.replace(/\/+$/, '') + ticket.url;
    const stream = new EventSource(base + resume);
    source = stream;
    stream.addEventListener('ready', (event) => {
      failures = 0;
      if (event.lastEventId) lastId = event.lastEventId;
      onReady?.();
    });
    const listen = (type, handler) => {
      if (!handler) return;
      stream.addEventListener(type, (event) => {
        failures = 0;
        if (event.lastEventId) lastId = event.lastEventId;
        try {
          handler(JSON.parse(event.data));
        } catch {
          // a malformed event is skipped; the next version of that document carries its state
        }
      });
    };
    listen('media', onMedia);
    listen('event', onEvent);
    stream.addEventListener('error', () => {
      // Ended (SSE_MAX_SECONDS) or broke: its ticket is spent, so open a new one and resume.
      if (closed || stream !== source) return;
      stream.close();
      source = null;
      retry();
    });
  }

  function retry() {
    if (closed) return;
    const delay = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
    failures += 1;
    timer = setTimeout(open, delay);
  }

  open();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}
