// Clips and snapshots of a processed video: a range selector on the video for a clip, a snapshot
// at the playhead; each job's progress comes from its event stream (the worker's own progress,
// nothing simulated), and its result opens from here and appears in the gallery.

import { h, replace } from './dom.js';
import { JOB_TERMINAL, formatMs, formatPercent, statusLabel } from './format.js';
import { showError } from './ui.js';

export const MAX_CLIP_MS = 60000;
const STEP_MS = 100;

/** The clip a range selects, or the reason it cannot be cut. */
export function clipOf(startMs, endMs, durationMs, maxMs = MAX_CLIP_MS) {
  const start = Math.max(0, Math.round(startMs));
  const end = Math.min(durationMs, Math.round(endMs));
  if (end <= start) return { error: 'the end must come after the start' };
  if (end - start > maxMs) return { error: `a clip is at most ${maxMs / 1000} s` };
  return { start_ms: start, duration_ms: end - start };
}

function paramsText(job) {
  const p = job.params || {};
  if (job.kind === 'clip') return `${formatMs(p.start_ms)}–${formatMs((p.start_ms || 0) + (p.duration_ms || 0))}`;
  if (job.kind === 'snapshot') return `at ${formatMs(p.at_ms)}`;
  return '';
}

/**
 * @param {{api: any, streams: any, media: object, video: HTMLVideoElement,
 *   timeline: ReturnType<import('./overlay.js').timeline>, onResult: (id: string) => void,
 *   navigate: (path: string) => void}} deps
 */
export function createJobs({ api, streams, media, video, timeline, onResult, navigate }) {
  const duration = media.duration_ms || 0;
  const rows = new Map();
  const list = h('ul', { class: 'jobs', 'aria-label': 'Jobs' });

  const rangeInput = (label, value) =>
    h('input', { type: 'range', min: 0, max: duration, step: STEP_MS, value, 'aria-label': label });
  const start = rangeInput('Clip start', 0);
  const end = rangeInput('Clip end', Math.min(duration, 3000));
  start.value = '0';
  end.value = String(Math.min(duration, 3000));
  const startText = h('output', null);
  const endText = h('output', null);
  const cut = h('button', { type: 'button', class: 'primary', onclick: () => cutClip() }, 'Cut clip');
  const hint = h('span', { class: 'muted', role: 'status' });
  const snap = h('button', { type: 'button', onclick: () => snapshot() }, 'Snapshot at playhead');

  function selection() {
    return clipOf(Number(start.value), Number(end.value), duration);
  }

  function update() {
    startText.textContent = formatMs(Number(start.value));
    endText.textContent = formatMs(Number(end.value));
    const clip = selection();
    cut.disabled = Boolean(clip.error);
    hint.textContent = clip.error || `${(clip.duration_ms / 1000).toFixed(1)} s`;
    timeline.setRange(Number(start.value), Number(end.value));
    snap.textContent = `Snapshot at playhead (${formatMs(playheadMs())})`;
  }

  function playheadMs() {
    return Math.min(Math.max(0, duration - 1), Math.round(video.currentTime * 1000));
  }

  start.addEventListener('input', () => {
    if (Number(end.value) <= Number(start.value)) end.value = String(Math.min(duration, Number(start.value) + 1000));
    update();
  });
  end.addEventListener('input', update);
  video.addEventListener('timeupdate', update);
  video.addEventListener('seeked', update);

  function row(job) {
    let node = rows.get(job.job_id);
    const bar = h('progress', { max: 1, value: job.progress || 0, 'aria-label': `${job.kind} progress` });
    const result =
      job.status === 'completed' && job.result_media_id
        ? h(
            'a',
            {
              href: `/media/${job.result_media_id}`,
              onclick: (event) => {
                event.preventDefault();
                navigate(`/media/${job.result_media_id}`);
              },
            },
            `Open ${job.kind}`,
          )
        : null;
    const fresh = h(
      'li',
      { class: `job job-${job.status}`, dataset: { jobId: job.job_id, status: job.status } },
      h('span', { class: 'job-kind' }, `${job.kind} ${paramsText(job)}`),
      bar,
      h('span', { class: 'job-status', role: 'status' }, `${statusLabel(job.status)} ${formatPercent(job.progress)}`),
      job.status === 'failed' && h('span', { class: 'error-inline' }, `${job.error_code}: ${job.error}`),
      result,
    );
    if (node) node.replaceWith(fresh);
    else list.prepend(fresh);
    rows.set(job.job_id, fresh);
    node = fresh;
    return node;
  }

  function follow(job) {
    const current = { ...job };
    row(current);
    if (JOB_TERMINAL.has(current.status)) return;
    streams.follow('job', job.job_id, (data) => {
      const wasDone = current.status === 'completed';
      Object.assign(current, {
        status: data.status,
        progress: data.progress ?? current.progress,
        result_media_id: data.result_media_id ?? current.result_media_id,
        error_code: data.error_code ?? current.error_code,
        error: data.error ?? current.error,
      });
      row(current);
      if (!wasDone && current.status === 'completed' && current.result_media_id) onResult(current.result_media_id);
    });
  }

  async function cutClip() {
    const clip = selection();
    if (clip.error) return;
    cut.disabled = true;
    try {
      follow(await api.clip(media.id, clip.start_ms, clip.duration_ms));
    } catch (error) {
      showError(error, { context: 'Cutting a clip' });
    } finally {
      update();
    }
  }

  async function snapshot() {
    snap.disabled = true;
    try {
      follow(await api.snapshot(media.id, playheadMs()));
    } catch (error) {
      showError(error, { context: 'Taking a snapshot' });
    } finally {
      snap.disabled = false;
    }
  }

  async function loadJobs() {
    try {
      const answer = await api.jobs(media.id);
      for (const job of [...(answer.items || [])].reverse()) follow(job);
    } catch (error) {
      showError(error, { context: 'Listing jobs' });
    }
  }

  const setStart = h('button', { type: 'button', onclick: () => { start.value = String(playheadMs()); start.dispatchEvent(new Event('input')); } }, 'Start at playhead');
  const setEnd = h('button', { type: 'button', onclick: () => { end.value = String(playheadMs()); update(); } }, 'End at playhead');
  update();
  loadJobs();
  return h(
    'section',
    { class: 'tools', 'aria-label': 'Clip and snapshot' },
    h('h2', null, 'Clip and snapshot'),
    h('div', { class: 'clip-range' },
      h('label', null, 'Start ', start, startText),
      h('label', null, 'End ', end, endText),
    ),
    h('div', { class: 'row' }, setStart, setEnd, cut, hint),
    h('div', { class: 'row' }, snap),
    list,
  );
}
