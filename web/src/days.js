// Days of the grid: media grouped by the local calendar day they were captured on, newest first,
// with a heading people read ("Today", "Yesterday", "Tuesday 8 December 2026").

/** The local `YYYY-MM-DD` of an instant. */
export function dayKey(iso) {
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The heading of a day, relative to `now` for today and yesterday. */
export function dayLabel(key, now = new Date(), locale = undefined) {
  const [y, m, d] = key.split('-').map(Number);
  const day = new Date(y, m - 1, d);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = Math.round((today - day) / 86400000);
  const full = day.toLocaleDateString(locale, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  if (days === 0) return `Today · ${full}`;
  if (days === 1) return `Yesterday · ${full}`;
  return full;
}

/** Items (already newest first) as `[{key, items}]`, one entry per local day, in order. */
export function groupByDay(items) {
  const groups = [];
  for (const item of items) {
    const key = dayKey(item.captured_at);
    const last = groups[groups.length - 1];
    if (last && last.key === key) last.items.push(item);
    else groups.push({ key, items: [item] });
  }
  return groups;
}

/** The gallery's order: captured_at desc, then id desc. Negative when `a` comes first. */
export function newestFirst(a, b) {
  if (a.captured_at !== b.captured_at) return a.captured_at < b.captured_at ? 1 : -1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? 1 : -1;
}
