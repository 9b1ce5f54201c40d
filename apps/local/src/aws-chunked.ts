/**
 * Streaming decoder for the `aws-chunked` content encoding the AWS SDKs use for streamed uploads
 * (`<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0\r\n<trailers>\r\n`). Yields the payload bytes as slices
 * of the incoming chunks, so memory stays at one incoming chunk plus a header line.
 */

export class AwsChunkedError extends Error {}

/** Longest chunk header or trailer line accepted; real ones are under 200 bytes. */
const MAX_LINE = 4096;

/** Trailing headers (the SDK's `x-amz-checksum-*`) are skipped: the emulator does not verify checksums either. */
export async function* decodeAwsChunked(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let line = Buffer.alloc(0);
  let state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  let remaining = 0;

  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      if (state === 'data') {
        const take = Math.min(remaining, chunk.length - offset);
        yield chunk.subarray(offset, offset + take);
        offset += take;
        remaining -= take;
        if (remaining === 0) state = 'data-end';
        continue;
      }
      if (state === 'done') throw new AwsChunkedError('data after the final aws-chunked chunk');
      const newline = chunk.indexOf('\n', offset);
      const end = newline < 0 ? chunk.length : newline + 1;
      line = Buffer.concat([line, chunk.subarray(offset, end)]);
      offset = end;
      if (line.length > MAX_LINE) throw new AwsChunkedError('aws-chunked header line too long');
      if (newline < 0) continue;
      const text = line.toString('latin1').replace(/\r?\n$/, '');
      line = Buffer.alloc(0);
      if (state === 'data-end') {
        if (text !== '') throw new AwsChunkedError('aws-chunked data longer than its declared size');
        state = 'size';
      } else if (state === 'size') {
        const size = /^([0-9a-fA-F]+)(;.*)?$/.exec(text)?.[1];
        if (size === undefined) throw new AwsChunkedError(`bad aws-chunked chunk header "${text}"`);
        remaining = parseInt(size, 16);
        state = remaining === 0 ? 'trailer' : 'data';
      } else if (text === '') {
        state = 'done';
      }
    }
  }
  // Some clients end the body right after the last trailer without the closing empty line.
  if (state !== 'done' && !(state === 'trailer' && line.length === 0)) {
    throw new AwsChunkedError('aws-chunked body ended early');
  }
}
