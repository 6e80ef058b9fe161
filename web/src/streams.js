// Live status over Server-Sent Events (docs/CONTRACTS.md, "Live status").
//
// EventSource cannot send an Authorization header, so every stream is opened with a short-lived
// ticket for that one stream (`POST .../events/ticket` → `{ticket, expires_at, url}`), and a
// reconnect asks for a new ticket. The first event of a stream is the current state, so a new
// stream after a reconnect loses nothing the page shows.
//
// Each open stream holds one HTTP/1.1 connection (browsers allow 6 per origin) and one request
// thread of list_media, so a pool caps how many run at once; the others wait their turn.

import { JOB_TERMINAL, MEDIA_TERMINAL } from './format.js';

export const MAX_OPEN_STREAMS = 4;
const RETRY_MS = [1000, 2000, 5000, 10000];

export class StreamPool {
  /**
   * @param {ReturnType<import('./api.js').createApi>} api
   * @param {(error: Error) => void} onError shown to the person (e.g. a ticket refused)
   * @param {number} [limit]
   */
  constructor(api, onError, limit = MAX_OPEN_STREAMS) {
    this.api = api;
    this.onError = onError;
    this.limit = limit;
    this.open = new Set();
    this.waiting = [];
  }

  /**
   * Follow a media's or a job's status until it is terminal or `close()` is called.
   * @param {'media' | 'job'} kind
   * @param {string} id
   * @param {(data: object, type: string) => void} onEvent each event's document
   * @param {(reason: 'terminal' | 'closed' | Error) => void} [onEnd] once, when it stops
   * @returns {{close: () => void}}
   */
  follow(kind, id, onEvent, onEnd) {
    const stream = new Stream(this, kind, id, onEvent, onEnd);
    this.waiting.push(stream);
    this._pump();
    return { close: () => stream.close('closed') };
  }

  /** Close every stream (sign out). */
  closeAll() {
    for (const stream of [...this.open, ...this.waiting]) stream.close();
  }

  _pump() {
    while (this.open.size < this.limit && this.waiting.length) {
      const stream = this.waiting.shift();
      if (stream.closed) continue;
      this.open.add(stream);
      stream.start();
    }
  }

  _release(stream) {
    this.open.delete(stream);
    this.waiting = this.waiting.filter((s) => s !== stream);
    this._pump();
  }
}

class Stream {
  constructor(pool, kind, id, onEvent, onEnd) {
    this.pool = pool;
    this.kind = kind;
    this.id = id;
    this.onEvent = onEvent;
    this.onEnd = onEnd;
    this.terminal = kind === 'job' ? JOB_TERMINAL : MEDIA_TERMINAL;
    this.closed = false;
    this.source = null;
    this.timer = null;
    this.failures = 0;
  }

  async start() {
    if (this.closed) return;
    let ticket;
    try {
      ticket = await this.pool.api.ticket(this.kind, this.id);
    } catch (error) {
      if (error.status === 404 || error.status === 401 || error.status === 403) {
        // The media is gone, or the session ended, or this API has no tickets: stop here.
        this.pool.onError(error);
        this.close(error);
      } else {
        this._retry();
      }
      return;
    }
    if (this.closed) return;
    const source = new EventSource(this.pool.api.url(ticket.url));
    this.source = source;
    const handle = (event) => {
      this.failures = 0;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onEvent(data, event.type);
      if (this.terminal.has(data.status)) this.close('terminal');
    };
    source.addEventListener('status', handle);
    source.addEventListener('progress', handle);
    source.addEventListener('error', () => {
      // The stream ended (SSE_MAX_SECONDS) or broke. EventSource would reconnect with the same
      // URL, whose ticket is spent: close it and open a new stream with a new ticket.
      if (this.closed || source !== this.source) return;
      source.close();
      this.source = null;
      this._retry();
    });
  }

  _retry() {
    if (this.closed) return;
    const delay = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
    this.failures += 1;
    this.timer = setTimeout(() => this.start(), delay);
  }

  close(reason = 'closed') {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
    this.pool._release(this);
    if (this.onEnd) this.onEnd(reason);
  }
}
