// Formatting and the status vocabulary of the API (docs/CONTRACTS.md, "Status and its mirror").

export const MEDIA_TERMINAL = new Set(['processed', 'rejected', 'failed', 'deleted']);
export const JOB_TERMINAL = new Set(['completed', 'failed']);

export const STATUS_LABELS = {
  pending_upload: 'waiting for upload',
  uploaded: 'uploaded',
  verified: 'verified',
  processing: 'processing',
  processed: 'processed',
  rejected: 'rejected',
  failed: 'failed',
  deleting: 'deleting',
  deleted: 'deleted',
  queued: 'queued',
  running: 'running',
  completed: 'completed',
};

/** "791.6 kB", "1.2 MB" (SI units, like the CLI's progress bars). */
export function formatBytes(bytes) {
  if (bytes == null) return '–';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Milliseconds as "m:ss.t" ("0:04.2"); null as "–". */
export function formatMs(ms) {
  if (ms == null || Number.isNaN(ms)) return '–';
  const totalTenths = Math.round(ms / 100);
  const minutes = Math.floor(totalTenths / 600);
  const seconds = Math.floor((totalTenths % 600) / 10);
  const tenths = totalTenths % 10;
  return `${minutes}:${String(seconds).padStart(2, '0')}.${tenths}`;
}

/** An RFC 3339 time in the reader's locale, e.g. "1 Dec 2026, 22:15:20". */
export function formatTime(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** "2 face, 1 person" from a media's `counts`. */
export function formatCounts(counts) {
  const entries = Object.entries(counts || {}).filter(([, n]) => n > 0);
  return entries.map(([label, n]) => `${n} ${label}`).join(', ');
}

/** A percentage for a progress fraction 0..1 ("38 %"). */
export function formatPercent(fraction) {
  return `${Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100)} %`;
}

export function statusLabel(status) {
  return STATUS_LABELS[status] || status;
}
