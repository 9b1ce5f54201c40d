import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { truncateText } from './text.ts';

const graphemes = (text: string) =>
  [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].map((s) => s.segment);

describe('truncateText', () => {
  it('cuts astral-plane letters whole, never leaving half a surrogate pair', () => {
    const cut = truncateText('𝐀'.repeat(60), 107);
    expect(cut).toBe('𝐀'.repeat(53));
    expect(() => encodeURIComponent(cut)).not.toThrow();
    expect(truncateText('e\u0301'.repeat(10), 5)).toBe('e\u0301e\u0301');
    expect(truncateText('short', 10)).toBe('short');
  });

  it('returns the longest whole-grapheme start within the length (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 80 }),
        fc.integer({ min: 0, max: 200 }),
        (text, max) => {
          const cut = truncateText(text, max);
          expect(cut.length).toBeLessThanOrEqual(max);
          expect(text.startsWith(cut)).toBe(true);
          expect(cut).not.toMatch(/\p{Cs}/u);
          const whole = graphemes(text);
          const kept = graphemes(cut);
          expect(kept).toEqual(whole.slice(0, kept.length));
          // One more grapheme would not have fitted.
          if (kept.length < whole.length)
            expect(cut.length + (whole[kept.length]?.length ?? 0)).toBeGreaterThan(max);
        },
      ),
      { numRuns: 500 },
    );
  });
});
