/** String formats for AJV: ajv-formats' full set, with a faster `date-time` that accepts exactly the same strings. */

/** Shape of an RFC 3339 date-time as ajv-formats (full mode, zone required) accepts it; ranges are checked after. */
const DATE_TIME_SHAPE = /^\d{4}-\d\d-\d\d[Tt\s]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d(?::?\d\d)?)$/;
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function twoDigits(s: string, at: number): number {
  return (s.charCodeAt(at) - 48) * 10 + (s.charCodeAt(at + 1) - 48);
}

/**
 * RFC 3339 `date-time` with a required zone, identical in verdict to ajv-formats' full-mode `date-time`
 * (including its leap-second rule) but without its splits and allocations: it runs on every event timestamp.
 */
export function isDateTime(s: string): boolean {
  if (!DATE_TIME_SHAPE.test(s)) return false;
  const year = twoDigits(s, 0) * 100 + twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month] ?? 0))) return false;
  const hr = twoDigits(s, 11);
  const min = twoDigits(s, 14);
  const sec = twoDigits(s, 17); // the fraction never changes the verdict: sec < 60 ⇔ whole seconds < 60
  let tzSign = 1;
  let tzH = 0;
  let tzM = 0;
  const last = s.charCodeAt(s.length - 1);
  if (last !== 90 && last !== 122) {
    // numeric offset: the sign is the last '+' or '-' (the date's dashes come before it)
    const at = Math.max(s.lastIndexOf('+'), s.lastIndexOf('-'));
    tzSign = s.charCodeAt(at) === 45 ? -1 : 1;
    tzH = twoDigits(s, at + 1);
    const rest = s.length - (at + 3);
    if (rest > 0) tzM = twoDigits(s, s.length - 2);
  }
  if (tzH > 23 || tzM > 59) return false;
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  // leap second: only at 23:59:60 UTC
  const utcMin = min - tzM * tzSign;
  const utcHr = hr - tzH * tzSign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
}

/**
 * A format check that remembers its recent verdicts. The URI fields of an event (channel `_id`s, schema and dataset
 * references) take a handful of values over a whole run, and ajv-formats' URI patterns cost ~10 % of validation.
 */
export function remembered(check: (s: string) => boolean, size = 1024): (s: string) => boolean {
  const verdicts = new Map<string, boolean>();
  return (s) => {
    const known = verdicts.get(s);
    if (known !== undefined) return known;
    const verdict = check(s);
    if (s.length <= 512) {
      if (verdicts.size >= size) verdicts.clear();
      verdicts.set(s, verdict);
    }
    return verdict;
  };
}
