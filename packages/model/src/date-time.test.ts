import fc from 'fast-check';
import { Format } from 'typebox/format';
import { describe, expect, it } from 'vitest';
import { isDateTime } from './date-time.ts';

describe('isDateTime', () => {
  it('agrees with TypeBox on date-times near and far from valid', () => {
    const digits = (n: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
    const candidate = fc
      .tuple(
        digits(4),
        digits(2),
        digits(2),
        fc.constantFrom('T', 't', ' '),
        digits(2),
        digits(2),
        digits(2),
        fc.constantFrom('', '.5', '.123456'),
        fc.constantFrom('Z', 'z', '', '+05:30', '-23:59', '+24:00', '-00:60'),
      )
      .map(([y, mo, d, t, h, mi, s, frac, zone]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${frac}${zone}`);
    fc.assert(
      fc.property(candidate, (value) => {
        expect(isDateTime(value)).toBe(Format.Test('date-time', value));
      }),
      { numRuns: 5000 },
    );
  });

  it('takes real instants and leap seconds only at 23:59:60 UTC', () => {
    expect(isDateTime(new Date(0).toISOString())).toBe(true);
    expect(isDateTime('2024-02-29T12:00:00Z')).toBe(true);
    expect(isDateTime('2023-02-29T12:00:00Z')).toBe(false);
    expect(isDateTime('2016-12-31T23:59:60Z')).toBe(true);
    expect(isDateTime('2016-12-31T18:59:60-05:00')).toBe(true);
    expect(isDateTime('2016-12-31T22:59:60Z')).toBe(false);
    expect(isDateTime('2016-12-31T23:59:59')).toBe(false);
  });
});
