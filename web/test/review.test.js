import { describe, expect, it } from 'vitest';
import { arrange, scoreText } from '../src/review.js';

const event = (id, camera, start, reviewed = null) => ({
  event_id: id,
  device_id: 'cam-dev',
  camera_id: camera,
  label: 'person',
  best_score: 0.62,
  start_at: start,
  reviewed_at: reviewed,
});

describe('arrange', () => {
  it('puts unreviewed first, then groups by camera and hour, newest first', () => {
    const events = [
      event('a', 'front', '2026-12-07T14:02:10Z'),
      event('b', 'front', '2026-12-07T14:40:00Z'),
      event('c', 'back', '2026-12-07T14:10:00Z'),
      event('d', 'front', '2026-12-07T13:59:59Z'),
      event('e', 'front', '2026-12-07T15:00:00Z', '2026-12-07T15:10:00Z'),
    ];
    const [unreviewed, reviewed] = arrange(events);
    expect(unreviewed.reviewed).toBe(false);
    expect(unreviewed.groups.map((g) => g.events.map((e) => e.event_id))).toEqual([
      ['c'],
      ['b', 'a'],
      ['d'],
    ]);
    expect(unreviewed.groups[0].title.startsWith('back · ')).toBe(true);
    expect(reviewed.groups.map((g) => g.events.map((e) => e.event_id))).toEqual([['e']]);
  });

  it('has empty sections when nothing is there', () => {
    expect(arrange([]).map((s) => s.groups.length)).toEqual([0, 0]);
  });
});

describe('scoreText', () => {
  it('names the label and the score in percent', () => {
    expect(scoreText(event('a', 'front', '2026-12-07T14:02:10Z'))).toBe('person 62 %');
  });
});
