// Provider time parsing: epoch numbers, ISO-8601 with offsets, zone-less local times in a configured zone, bogus input.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { TimeParser } from '../../src/mapping/time.js';

const iso = (parser: TimeParser, value: unknown) => {
  const r = parser.parse(value);
  return r.ok ? r.iso : `invalid: ${r.reason}`;
};

describe('provider times', () => {
  const utc = new TimeParser();

  test('epoch milliseconds, as a number or a digit string, become ISO-8601 UTC with Z', () => {
    expect(iso(utc, 1534412400000)).toBe('2018-08-16T09:40:00.000Z');
    expect(iso(utc, '1534412400123')).toBe('2018-08-16T09:40:00.123Z');
  });

  test('epoch seconds are read when the mapping says so, fractions included (Mailgun)', () => {
    const seconds = new TimeParser('s');
    expect(iso(seconds, 1534412400)).toBe('2018-08-16T09:40:00.000Z');
    expect(iso(seconds, 1534412400.5678)).toBe('2018-08-16T09:40:00.568Z');
  });

  test('epoch seconds read as milliseconds land in 1970 and are rejected with a hint', () => {
    expect(iso(utc, 1534412400)).toMatch(/outside 2000–2099 \(epoch seconds\? set options.epochUnit to "s"\)/);
    expect(iso(new TimeParser('s'), 1534412400000)).toMatch(/epoch milliseconds\? set options.epochUnit to "ms"/);
  });

  test('ISO-8601 with Z or an offset in any spelling is converted to UTC', () => {
    expect(iso(utc, '2024-05-10T10:00:00+02:00')).toBe('2024-05-10T08:00:00.000Z');
    expect(iso(utc, '2024-05-10T10:00:00+0200')).toBe('2024-05-10T08:00:00.000Z');
    expect(iso(utc, '2024-05-10 10:00:00-05')).toBe('2024-05-10T15:00:00.000Z');
    expect(iso(utc, '2017-05-15T09:46:16.399Z')).toBe('2017-05-15T09:46:16.399Z');
    expect(iso(utc, '2024-05-10T10:00Z')).toBe('2024-05-10T10:00:00.000Z');
  });

  test('zone-less times are UTC by default', () => {
    expect(iso(utc, '2024-05-06 08:07')).toBe('2024-05-06T08:07:00.000Z');
    expect(iso(utc, '2024-05-06 08:07:09')).toBe('2024-05-06T08:07:09.000Z');
  });

  test('zone-less times are read in the configured zone, across daylight saving', () => {
    const melbourne = new TimeParser('ms', 'Australia/Melbourne');
    expect(iso(melbourne, '2024-05-06 18:07')).toBe('2024-05-06T08:07:00.000Z'); // AEST +10
    expect(iso(melbourne, '2024-01-06 18:07')).toBe('2024-01-06T07:07:00.000Z'); // AEDT +11
    const london = new TimeParser('ms', 'Europe/London');
    expect(iso(london, '2024-03-31 00:30')).toBe('2024-03-31T00:30:00.000Z'); // GMT, just before the switch
    expect(iso(london, '2024-03-31 03:30')).toBe('2024-03-31T02:30:00.000Z'); // BST
    // A zone with an offset in the string ignores the configured zone.
    expect(iso(london, '2024-07-01T12:00:00Z')).toBe('2024-07-01T12:00:00.000Z');
  });

  test('impossible dates, garbage and missing values are rejected with a readable reason', () => {
    expect(iso(utc, '2024-02-30T10:00:00Z')).toMatch(/not a valid calendar date and time/);
    expect(iso(utc, '2024-13-45 25:00')).toMatch(/not a valid calendar date and time/);
    expect(iso(utc, '2024-05-10T24:00:00Z')).toMatch(/not a valid calendar date and time/);
    expect(iso(utc, 'yesterday')).toMatch(/'yesterday' is not a time; expected epoch milliseconds, ISO-8601 with an offset, or YYYY-MM-DD HH:MM\[:SS\]/);
    expect(iso(utc, '2024-05-10')).toMatch(/is not a time/);
    expect(iso(utc, undefined)).toBe('invalid: missing');
    expect(iso(utc, '  ')).toBe('invalid: missing');
    expect(iso(utc, { at: 1 })).toMatch(/not a time \(a object\)/);
    expect(iso(utc, Number.NaN)).toMatch(/is not a time/);
  });

  test('an unknown time zone is refused when the parser is built', () => {
    expect(() => new TimeParser('ms', 'Mars/Olympus')).toThrow(RangeError);
  });
});

describe('TimeParser ISO output', () => {
  test('is exactly Date#toISOString for any instant it accepts, in any order (property)', () => {
    const parser = new TimeParser('ms', 'UTC');
    const min = Date.UTC(2000, 0, 1);
    const max = Date.UTC(2100, 0, 1) - 1;
    fc.assert(
      fc.property(fc.array(fc.integer({ min, max }), { minLength: 1, maxLength: 50 }), (list) => {
        for (const ms of list) {
          const r = parser.parse(ms);
          if (!r.ok || r.iso !== new Date(ms).toISOString()) return false;
          // the same day again (a cached date part) and the last millisecond of that day
          const endOfDay = Math.floor(ms / 86_400_000) * 86_400_000 + 86_399_999;
          const again = parser.parse(Math.min(endOfDay, max));
          if (!again.ok || again.iso !== new Date(Math.min(endOfDay, max)).toISOString()) return false;
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});
