import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMultipartUploads, listParts } from './multipart-listing.ts';

const ids = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'];
const third = '00000000-0000-4000-8000-00000000000c';
let dir: string;

/** The emulator's layout: `_multipart/<id>/.upload.json` and `parts/<n>.meta.json` beside `<n>.data`. */
function upload(id: string, key: string, initiated: string, parts: number[], bucket = 'b') {
  const root = join(dir, '_multipart', id);
  mkdirSync(join(root, 'parts'), { recursive: true });
  writeFileSync(join(root, '.upload.json'), JSON.stringify({ uploadId: id, bucket, key, initiated }));
  for (const n of parts) {
    writeFileSync(join(root, 'parts', `${n}.data`), Buffer.alloc(n * 10));
    const meta = { partNumber: n, etag: `"etag-${n}"`, lastModified: '2026-01-01T00:00:00.000Z' };
    writeFileSync(join(root, 'parts', `${n}.meta.json`), JSON.stringify(meta));
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'multipart-listing-'));
  upload(ids[0]!, 'uploads/a&b.mp4', '2026-01-01T00:00:01.000Z', [1, 2, 3]);
  upload(ids[1]!, 'uploads/a&b.mp4', '2026-01-01T00:00:02.000Z', []);
  upload(third, 'other/c.mp4', '2026-01-01T00:00:03.000Z', [], 'elsewhere');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ListParts', () => {
  it('lists parts with their sizes and ETags, a page at a time', async () => {
    const first = await listParts(
      dir,
      'b',
      'uploads/a&b.mp4',
      new URLSearchParams({ uploadId: ids[0]!, 'max-parts': '2' }),
    );
    expect(first).toContain('<IsTruncated>true</IsTruncated>');
    expect(first).toContain('<NextPartNumberMarker>2</NextPartNumberMarker>');
    expect(first).toContain(
      '<Part><PartNumber>1</PartNumber><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;etag-1&quot;</ETag><Size>10</Size></Part>',
    );
    expect(first).toContain('<Key>uploads/a&amp;b.mp4</Key>');
    const rest = await listParts(
      dir,
      'b',
      'uploads/a&b.mp4',
      new URLSearchParams({ uploadId: ids[0]!, 'part-number-marker': '2' }),
    );
    expect(rest).toContain('<IsTruncated>false</IsTruncated>');
    expect(rest).not.toContain('<PartNumber>2</PartNumber>');
    expect(rest).toContain('<PartNumber>3</PartNumber>');
  });

  it('answers NoSuchUpload for an unknown ID, another key or bucket, or a path-like ID', async () => {
    for (const [bucket, key, uploadId] of [
      ['b', 'uploads/a&b.mp4', '00000000-0000-4000-8000-0000000000ff'],
      ['b', 'uploads/other.mp4', ids[0]!],
      ['elsewhere', 'uploads/a&b.mp4', ids[0]!],
      ['b', 'uploads/a&b.mp4', '../_multipart'],
    ]) {
      expect(await listParts(dir, bucket!, key!, new URLSearchParams({ uploadId: uploadId! }))).toMatchObject(
        {
          status: 404,
          code: 'NoSuchUpload',
        },
      );
    }
    expect(
      await listParts(
        dir,
        'b',
        'uploads/a&b.mp4',
        new URLSearchParams({ uploadId: ids[0]!, 'max-parts': 'x' }),
      ),
    ).toMatchObject({ status: 400, code: 'InvalidArgument' });
  });
});

describe('ListMultipartUploads', () => {
  it("lists the bucket's uploads by key then age, by prefix, a page at a time", async () => {
    const all = await listMultipartUploads(dir, 'b', new URLSearchParams({ prefix: 'uploads/' }));
    expect(String(all).match(/<UploadId>[^<]+<\/UploadId>/g)).toEqual(
      ids.map((id) => `<UploadId>${id}</UploadId>`),
    );
    expect(await listMultipartUploads(dir, 'b', new URLSearchParams({ prefix: 'other/' }))).not.toContain(
      '<Upload>',
    );
    const first = await listMultipartUploads(dir, 'b', new URLSearchParams({ 'max-uploads': '1' }));
    expect(first).toContain('<IsTruncated>true</IsTruncated>');
    expect(first).toContain(`<NextUploadIdMarker>${ids[0]}</NextUploadIdMarker>`);
    const next = await listMultipartUploads(
      dir,
      'b',
      new URLSearchParams({ 'key-marker': 'uploads/a&b.mp4', 'upload-id-marker': ids[0]! }),
    );
    expect(String(next).match(/<UploadId>[^<]+<\/UploadId>/g)).toEqual([`<UploadId>${ids[1]}</UploadId>`]);
    const gone = await listMultipartUploads(
      dir,
      'b',
      new URLSearchParams({
        'key-marker': 'uploads/a&b.mp4',
        'upload-id-marker': '00000000-0000-4000-8000-00000000000a0',
      }),
    );
    expect(String(gone).match(/<UploadId>[^<]+<\/UploadId>/g)).toEqual([`<UploadId>${ids[1]}</UploadId>`]);
    const url = await listMultipartUploads(dir, 'b', new URLSearchParams({ 'encoding-type': 'url' }));
    expect(url).toContain('<Key>uploads%2Fa%26b.mp4</Key>');
  });
});
