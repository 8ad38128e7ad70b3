// Formatting for people: sizes, durations, dates, hashes, readable previews.

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB"; 1 → "1 byte". */
export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  if (n === 1) return '1 byte';
  let value = Number(n);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits).replace(/\.0+$|(\.\d*?)0+$/, '$1')} ${UNITS[unit]}`;
}

/** 95_000 → "1 min 35 s"; 3_600_000 → "1 h". Coarse past a day. */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const hrs = Math.floor(m / 60);
  if (hrs < 24) return m % 60 ? `${hrs} h ${m % 60} min` : `${hrs} h`;
  const days = Math.floor(hrs / 24);
  return hrs % 24 ? `${days} d ${hrs % 24} h` : `${days} d`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** A date and time, e.g. "12 Mar 2026, 14:05". */
export function when(ms) {
  return ms ? dateTime.format(new Date(ms)) : '—';
}

/** Time of day with seconds, for live lists. */
export function clock(ms) {
  return timeOnly.format(new Date(ms));
}

/** "3 min ago", "just now", or the date when older than a week. */
export function ago(ms, now = Date.now()) {
  const diff = now - ms;
  if (diff < 10_000) return 'just now';
  if (diff < 7 * 86_400_000) return `${duration(diff).split(' ').slice(0, 2).join(' ')} ago`;
  return when(ms);
}

/** The first 10 hex digits of a hash. */
export function shortHash(hash) {
  return hash ? hash.slice(0, 10) : '';
}

/** The last segment of a path. */
export function baseName(path) {
  const parts = path.split('/').filter(Boolean);
  return parts.length ? parts[parts.length - 1] : '/';
}

/** Whether text reads as text (no control characters but tab/newline). */
export function printable(text) {
  // eslint-disable-next-line no-control-regex
  return typeof text === 'string' && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}

/** Group hex in pairs for reading: "48 65 6c 6c 6f". */
export function spacedHex(hex) {
  return (hex || '').replace(/(..)(?!$)/g, '$1 ');
}

const ORIGINS = {
  folder: "from this computer's folder",
  upload: 'uploaded (web page or app)',
  restore: 'an older version restored',
  resolve: 'chosen to settle a conflict',
  keep_both: 'kept from a conflict',
  move: 'moved or renamed',
};

/** How a version came to be (its `origin`), in words; '' when unknown. */
export function origin(name) {
  return ORIGINS[name] || '';
}
