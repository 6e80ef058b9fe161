import { describe, expect, it } from 'vitest';
import {
  boxLabel,
  boxRect,
  boxesAt,
  frameTimes,
  sampleWindowMs,
  samplingIntervalMs,
  stationaryKeys,
  storyboardTile,
  trackSamples,
} from '../src/overlay.js';

const detections = [
  { label: 'face', score: 0.98, time_ms: 2000, box: { x: 0, y: 0, w: 1, h: 1 } },
  { label: 'person', score: 0.7, time_ms: 1000, box: { x: 0, y: 0, w: 1, h: 1 } },
  { label: 'face', score: 0.9, time_ms: 1000, box: { x: 0, y: 0, w: 1, h: 1 } },
  { label: 'face', score: 0.9, time_ms: null, box: { x: 0, y: 0, w: 1, h: 1 } },
];

describe('frames of a video', () => {
  it('are the distinct detection times, sorted', () => {
    expect(frameTimes(detections)).toEqual([1000, 2000]);
  });

  it('stay on screen for the shortest gap between samples', () => {
    expect(sampleWindowMs([0, 1000, 1500, 3000])).toBe(500);
    expect(sampleWindowMs([1000])).toBe(1000);
  });

});

describe('boxes on a video', () => {
  // a person walking right, sampled every 1000 ms, then gone; a face seen once
  const walk = [0, 1000, 2000].map((t, i) => ({
    label: 'person', score: 0.8, time_ms: t, track_id: 1, box: { x: 100 * i, y: 10, w: 50, h: 100 },
  }));
  const face = { label: 'face', score: 0.9, time_ms: 1000, track_id: 2, box: { x: 5, y: 5, w: 10, h: 10 } };
  const tracks = trackSamples([...walk, face]);

  it('take the stated sampling interval, else the gap between a track\'s samples', () => {
    expect(samplingIntervalMs(walk, { detect_interval_ms: 500 })).toBe(500);
    expect(samplingIntervalMs([...walk, face], null)).toBe(1000);
    expect(samplingIntervalMs([face], null)).toBe(1000);
  });

  it('move linearly along a track between two samples', () => {
    const [person] = boxesAt(tracks, 1500, 1000).filter((b) => b.label === 'person');
    expect(person.box).toEqual({ x: 150, y: 10, w: 50, h: 100 });
    const [quarter] = boxesAt(tracks, 250, 1000).filter((b) => b.label === 'person');
    expect(quarter.box.x).toBe(25);
  });

  it('show a lone sample only within half an interval of it', () => {
    const faces = (ms) => boxesAt(tracks, ms, 1000).filter((b) => b.label === 'face');
    expect(faces(440)).toHaveLength(0);
    expect(faces(600)).toHaveLength(1);
    expect(faces(1400)).toHaveLength(1);
    expect(faces(1600)).toHaveLength(0);
  });

  it('are gone once the object has left: nothing past half an interval after its last sample', () => {
    expect(boxesAt(tracks, 2400, 1000).map((b) => b.label)).toEqual(['person']);
    expect(boxesAt(tracks, 2600, 1000)).toEqual([]);
  });

  it('do not bridge a track across samples where it was not seen, unless it stood still', () => {
    const gappy = trackSamples([walk[0], { ...walk[2], time_ms: 3000 }]);
    expect(boxesAt(gappy, 1500, 1000)).toEqual([]);
    const parked = stationaryKeys([{ track_id: 1, stationary: true }]);
    expect(boxesAt(gappy, 1500, 1000, parked).map((b) => b.box.x)).toEqual([100]);
  });
});

describe('storyboard', () => {
  const index = { columns: 3, tile_width_px: 160, tile_height_px: 90, times_ms: [0, 1000, 2000, 3000, 4000] };
  it('shows the last tile at or before the time, in its row and column of the sprite', () => {
    expect(storyboardTile(index, 0)).toEqual({ tile: 0, x: 0, y: 0 });
    expect(storyboardTile(index, 999)).toEqual({ tile: 0, x: 0, y: 0 });
    expect(storyboardTile(index, 3500)).toEqual({ tile: 3, x: 0, y: 90 });
    expect(storyboardTile(index, 99999)).toEqual({ tile: 4, x: 160, y: 90 });
  });
});

describe('boxes', () => {
  it('are placed in percent of the picture', () => {
    expect(boxRect({ x: 64, y: 0, w: 128, h: 256 }, 512, 512)).toEqual({
      left: '12.500%',
      top: '0.000%',
      width: '25.000%',
      height: '50.000%',
    });
  });

  it('are labelled with the label and the score', () => {
    expect(boxLabel(detections[0])).toBe('face 98 %');
  });
});
