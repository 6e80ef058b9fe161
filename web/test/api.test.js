import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApi } from '../src/api.js';

// Every call of the page goes to the API's one base URL (apiBaseUrl of /config.json): the
// load balancer, or the local gateway, routes it to the service that serves it.
describe('the API client', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('sends every call to the one base URL and builds stream URLs from it', async () => {
    const seen = [];
    vi.stubGlobal('fetch', async (url, init) => {
      seen.push(`${init.method} ${url}`);
      return new Response('{"items":[],"ticket":"t","url":"/v1/events/stream?ticket=t"}', {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
      });
    });
    const api = createApi({ apiBaseUrl: 'https://api.example.test/' }, () => 'token', () => {});

    await api.gallery({ kind: 'photo' }, null, 3);
    await api.declare({ camera_id: 'front' });
    await api.patch('med_1', { note: 'n' }, '"e"');
    await api.remove('med_1');
    await api.revokeShare('shr_1');
    await api.ticket('job', 'job_1');

    expect(seen).toEqual([
      'GET https://api.example.test/v1/media?kind=photo&limit=3',
      'POST https://api.example.test/v1/media',
      'PATCH https://api.example.test/v1/media/med_1',
      'DELETE https://api.example.test/v1/media/med_1',
      'DELETE https://api.example.test/v1/shares/shr_1',
      'POST https://api.example.test/v1/jobs/job_1/events/ticket',
    ]);
    expect(api.url('/v1/events/stream?ticket=t')).toBe(
      'https://api.example.test/v1/events/stream?ticket=t',
    );
  });
});
