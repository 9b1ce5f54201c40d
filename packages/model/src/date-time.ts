const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:([Zz])|([+-])(\d\d):(\d\d))$/;

/**
 * An RFC 3339 date-time (`2026-12-01T17:46:22.123Z`), as JSON Schema's `date-time` format means it: a real
 * calendar day, a time zone, a leap second only at 23:59:60 UTC. (TypeBox also takes RFC 9557 suffixes such
 * as `[Europe/Paris]`; nothing here sends them.)
 */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS[month] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > days) return false;
  const zoneHours = Number(m[9] ?? 0);
  const zoneMinutes = Number(m[10] ?? 0);
  if (hour > 23 || minute > 59 || second > 60 || zoneHours > 23 || zoneMinutes > 59) return false;
  if (second < 60) return true;
  const sign = m[8] === '-' ? -1 : 1;
  const utcMinutes = hour * 60 + minute - sign * (zoneHours * 60 + zoneMinutes);
  return ((utcMinutes % 1440) + 1440) % 1440 === 1439;
}
