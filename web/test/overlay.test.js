import { describe, expect, it } from 'vitest';
import { boxLabel, boxRect, frameAt, frameTimes, sampleWindowMs } from '../src/overlay.js';

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

  it('show the last frame at or just before the playhead, within its window', () => {
    const times = [1000, 2000];
    expect(frameAt(times, 950, 1000)).toBeNull();
    expect(frameAt(times, 985, 1000)).toBe(1000); // a seek lands a few ms early
    expect(frameAt(times, 1500, 1000)).toBe(1000);
    expect(frameAt(times, 2999, 1000)).toBe(2000);
    expect(frameAt(times, 3000, 1000)).toBeNull();
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
