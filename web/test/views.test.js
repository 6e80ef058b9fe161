import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSelection, runEach } from '../src/bulk.js';
import { dayKey, dayLabel, groupByDay } from '../src/days.js';
import { rebase } from '../src/editor.js';
import { apiFilters, filtered, filtersFromSearch, matches } from '../src/filters.js';
import { mediaName, tileLabel } from '../src/gallery.js';
import { shareProblem } from '../src/sharepage.js';
import { sniffedType } from '../src/upload.js';
import { matchRoute } from '../src/views.js';
import { clampPan, zoomAround } from '../src/zoom.js';
import { crc32, uniqueNames, zipParts } from '../src/zip.js';

describe('routes', () => {
  it('name the view of each path, and not found for the rest', () => {
    expect(matchRoute('/')).toEqual({ name: 'gallery', params: {}, public: false });
    expect(matchRoute('/media/med_1')).toEqual({ name: 'media', params: { id: 'med_1' }, public: false });
    expect(matchRoute('/s/abcdefghijklmnopqrstuvwxyz012345')).toMatchObject({ name: 'share', public: true });
    expect(matchRoute('/nowhere').name).toBe('notfound');
    expect(matchRoute('/media/').name).toBe('notfound');
  });
});

describe('days', () => {
  it('group newest-first media by local day, with a heading people read', () => {
    const items = [
      { id: 'a', captured_at: new Date(2026, 11, 9, 23, 0).toISOString() },
      { id: 'b', captured_at: new Date(2026, 11, 9, 1, 0).toISOString() },
      { id: 'c', captured_at: new Date(2026, 11, 8, 12, 0).toISOString() },
    ];
    expect(groupByDay(items).map((g) => [g.key, g.items.map((i) => i.id)])).toEqual([
      ['2026-12-09', ['a', 'b']],
      ['2026-12-08', ['c']],
    ]);
    const now = new Date(2026, 11, 9, 15, 0);
    expect(dayLabel('2026-12-09', now, 'en-GB')).toMatch(/^Today · Wednesday,? 9 December 2026$/);
    expect(dayLabel('2026-12-08', now, 'en-GB')).toMatch(/^Yesterday · /);
    expect(dayLabel('2026-12-01', now, 'en-GB')).toMatch(/^Tuesday,? 1 December 2026$/);
    expect(dayKey(new Date(2026, 0, 5, 0, 30).toISOString())).toBe('2026-01-05');
  });
});

describe('time filters', () => {
  it('become captured_after / captured_before at local midnights and the end of the jumped-to hour', () => {
    const state = filtersFromSearch('?from=2026-12-01&to=2026-12-03&at=2026-12-02T14');
    expect(filtered(state)).toBe(true);
    const api = apiFilters(state);
    expect(api.captured_after).toBe(new Date(2026, 11, 1).toISOString());
    expect(api.captured_before).toBe(new Date(2026, 11, 2, 15).toISOString());
    expect(apiFilters(filtersFromSearch('?to=2026-12-03')).captured_before).toBe(new Date(2026, 11, 4).toISOString());
    expect(filtersFromSearch('?from=yesterday').from).toBe('');
  });

  it('keep out arrivals outside the range', () => {
    const filters = apiFilters(filtersFromSearch('?from=2026-12-01&to=2026-12-01'));
    const at = (d, h) => ({ status: 'processed', captured_at: new Date(2026, 11, d, h).toISOString() });
    expect(matches(filters, at(1, 12))).toBe(true);
    expect(matches(filters, at(2, 0))).toBe(false);
    expect(matches(filters, at(30, 23))).toBe(false);
  });
});

describe('tiles', () => {
  it('are announced with name, status, camera, time and what was found', () => {
    const item = { original_filename: 'bikes.mp4', status: 'processed', camera_id: 'cam-1', captured_at: '2026-12-09T14:02:00Z', counts: { person: 2, face: 1 } };
    expect(tileLabel(item)).toMatch(/^bikes\.mp4, processed, cam-1, .+, found 2 person, 1 face$/);
    expect(mediaName({ ...item, original_filename: null, kind: 'clip' })).toMatch(/^cam-1 clip /);
  });
});

describe('selection', () => {
  const order = ['a', 'b', 'c', 'd', 'e'];
  it('toggles one, selects a range with shift, and a whole day', () => {
    let seen = [];
    const selection = createSelection((ids) => { seen = ids; });
    selection.toggle('b', { order });
    selection.toggle('d', { range: true, order });
    expect(seen.sort()).toEqual(['b', 'c', 'd']);
    selection.toggle('c', { order });
    expect(seen.sort()).toEqual(['b', 'd']);
    selection.toggleAll(['d', 'e']);
    expect(seen.sort()).toEqual(['b', 'd', 'e']);
    selection.toggleAll(['d', 'e']);
    expect(seen).toEqual(['b']);
    selection.keep(new Set(['a']));
    expect(seen).toEqual([]);
  });

  it('runs an action on each and says what happened to each', async () => {
    const results = await runEach([{ id: 1 }, { id: 2 }], async (item) => {
      if (item.id === 2) throw Object.assign(new Error('media gone'), { code: 'not_found' });
      return 'deleted';
    });
    expect(results.map((r) => [r.ok, r.text])).toEqual([[true, 'deleted'], [false, 'not_found: media gone']]);
  });
});

describe('an edit refused by a newer one', () => {
  it('is applied again on top of it', () => {
    const base = { labels: ['a', 'b'], note: 'old' };
    const draft = { labels: ['a', 'c'], note: 'old' };
    const fresh = { labels: ['a', 'b', 'x'], note: 'theirs' };
    expect(rebase(draft, base, fresh)).toEqual({ labels: ['a', 'x', 'c'], note: 'theirs' });
    expect(rebase({ ...draft, note: 'mine' }, base, fresh).note).toBe('mine');
  });
});

describe('an upload', () => {
  const bytes = (...parts) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
  it('names the camera containers from their bytes', () => {
    expect(sniffedType(bytes('RIFF', [0, 0, 0, 0], 'AVI LIST'), '')).toBe('video/x-msvideo');
    expect(sniffedType(bytes([0x1a, 0x45, 0xdf, 0xa3], 'matroska'), 'video/webm')).toBe('video/x-matroska');
    expect(sniffedType(bytes([0x1a, 0x45, 0xdf, 0xa3], 'webm'), '')).toBe('video/webm');
    const ts = new Uint8Array(188 * 4);
    for (let i = 0; i < 4; i += 1) ts[i * 188] = 0x47;
    expect(sniffedType(ts, 'text/vnd.trolltech.linguist')).toBe('video/mp2t');
    expect(sniffedType(bytes([0, 0, 0, 0x14], 'ftypqt  '), 'video/mp4')).toBe('video/quicktime');
    expect(sniffedType(bytes([0xff, 0xd8, 0xff]), 'image/jpeg')).toBe('image/jpeg');
  });
});

describe('the share page', () => {
  it('says in words why a link does not open', () => {
    expect(shareProblem({ code: 'share_revoked' })[0]).toBe('This link was turned off');
    expect(shareProblem({ code: 'share_expired' })[0]).toBe('This link has expired');
    expect(shareProblem({ code: 'not_found' })[0]).toBe('This link does not work');
    expect(shareProblem({ code: 'network_error', message: 'down' })[1]).toContain('down');
  });
});

describe('zooming', () => {
  it('keeps the point under the pointer still and the picture covering the stage', () => {
    expect(zoomAround({ x: 100, y: 50 }, { x: 0, y: 0 }, 1, 2)).toEqual({ x: -100, y: -50 });
    expect(clampPan({ x: 50, y: -900 }, 2, 400, 300)).toEqual({ x: 0, y: -300 });
  });
});

describe('an archive', () => {
  it('has the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('is a ZIP that other tools open, with unique UTF-8 names', () => {
    const names = uniqueNames(['a.jpg', 'é.png', 'a.jpg']);
    expect(names).toEqual(['a.jpg', 'é.png', 'a (2).jpg']);
    const files = names.map((name, i) => ({ name, bytes: new TextEncoder().encode(`file ${i}`), modified: new Date(2026, 11, 9, 14, 2, 4) }));
    const parts = zipParts(files);
    const path = join(mkdtempSync(join(tmpdir(), 'zip-')), 'a.zip');
    writeFileSync(path, Buffer.concat(parts.map((p) => Buffer.from(p))));
    const listed = execFileSync('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print("|".join(f"{i.filename}={z.read(i).decode()}" for i in z.infolist()))', path]).toString().trim();
    expect(listed).toBe('a.jpg=file 0|é.png=file 1|a (2).jpg=file 2');
  });
});
