import { describe, expect, it } from 'vitest';
import { apiFilters, filtersFromSearch, matches, newestFirst, searchOfFilters } from '../src/gallery.js';

describe('filter state', () => {
  it('round-trips through the query string', () => {
    const state = { tab: 'clips', device: 'dev-1', camera: 'front', status: 'processed', label: 'cat', object: 'dog', from: '2026-12-01', to: '2026-12-03', at: '2026-12-02T14' };
    expect(searchOfFilters(state)).toBe('?tab=clips&camera=dev-1%2Ffront&status=processed&label=cat&object=dog&from=2026-12-01&to=2026-12-03&at=2026-12-02T14');
    expect(filtersFromSearch(searchOfFilters(state))).toEqual(state);
    expect(searchOfFilters(filtersFromSearch(''))).toBe('');
  });

  it('ignores a tab it does not know', () => {
    expect(filtersFromSearch('?tab=everything').tab).toBe('');
  });

  it('becomes the filters of GET /v1/media', () => {
    expect(apiFilters({ tab: 'photos', device: '', camera: '', status: '', label: '' })).toEqual({
      kind: 'upload',
      media_type: 'image',
    });
    expect(apiFilters({ tab: '', device: 'd', camera: 'c', status: 'failed', label: 'x', object: 'car' })).toEqual({
      device_id: 'd',
      camera_id: 'c',
      status: 'failed',
      label: 'x',
      object: 'car',
    });
  });
});

describe('items the page learns of', () => {
  const clip = { id: 'med_2', kind: 'clip', media_type: 'video', status: 'processed', labels: ['a'], device_id: 'd', camera_id: 'c' };

  it('are kept only when they pass the filters', () => {
    expect(matches({ kind: 'clip' }, clip)).toBe(true);
    expect(matches({ kind: 'snapshot' }, clip)).toBe(false);
    expect(matches({ label: 'a' }, clip)).toBe(true);
    expect(matches({ label: 'b' }, clip)).toBe(false);
    expect(matches({}, { ...clip, status: 'deleted' })).toBe(false);
    expect(matches({ object: 'dog' }, { ...clip, counts: { dog: 1, person: 2 } })).toBe(true);
    expect(matches({ object: 'dog' }, { ...clip, counts: { person: 2 } })).toBe(false);
    expect(matches({ object: 'dog' }, clip)).toBe(false);
  });

  it('are ordered newest capture first, then by id', () => {
    const items = [
      { id: 'med_1', captured_at: '2026-01-01T00:00:00Z' },
      { id: 'med_3', captured_at: '2026-01-02T00:00:00Z' },
      { id: 'med_2', captured_at: '2026-01-02T00:00:00Z' },
    ];
    expect(items.sort(newestFirst).map((i) => i.id)).toEqual(['med_3', 'med_2', 'med_1']);
  });
});
