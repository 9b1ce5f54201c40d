// Binary units, as the sizes are computed: 1 KiB = 1024 bytes.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** A duration for people: 850 ms, 4.2 s, 3 m 12 s, 2 h 5 m. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.floor(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Time since an ISO instant, e.g. "3 m 12 s"; '—' when unknown. */
export function formatSince(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '—' : formatDuration(Math.max(0, now - t));
}

export function formatCount(n: number): string {
  return new Intl.NumberFormat('en-US').format(n);
}

/** The file name part of an S3 key. */
export function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
