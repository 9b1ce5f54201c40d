import { describe, expect, it } from 'vitest';
import { EMULATOR_MAX_PART, uploadPartRefusal } from './upload-part.ts';

const part = (partNumber: string, length: number) =>
  uploadPartRefusal(new URLSearchParams({ uploadId: 'u', partNumber }), { 'content-length': String(length) });

describe('uploadPartRefusal', () => {
  it('takes part numbers 1 … 10,000 as S3 does, and refuses others with InvalidArgument', () => {
    expect(part('1', 5)).toBeUndefined();
    expect(part('10000', EMULATOR_MAX_PART)).toBeUndefined();
    for (const bad of ['0', '10001', '-1', '1.5', 'x', ''])
      expect(part(bad, 5), bad).toMatchObject({ status: 400, code: 'InvalidArgument' });
  });

  it("refuses parts over S3's 5 GiB, and says plainly when a part is over the emulator's limit", () => {
    expect(part('1', 5 * 1024 ** 3 + 1)).toMatchObject({ status: 400, code: 'EntityTooLarge' });
    expect(part('1', EMULATOR_MAX_PART + 1)).toMatchObject({ status: 501, code: 'NotImplemented' });
  });
});
