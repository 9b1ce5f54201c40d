import { execFile } from 'node:child_process';
import { open, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAMES } from '@thumbs/model';
import { mediaBuilds } from '@thumbs/runtime';
import { extractFrames, frameSeekTimes, probeVideo } from './ffmpeg.ts';
import { UnrecoverableError } from './failure.ts';
import type { MediaOptions } from './media-tool.ts';
import { makeNumberedClip } from '@thumbs/local/testing';
import { makeShape, SHAPES } from './testing/corpus.ts';

const run = promisify(execFile);
let dir: string;
let listener: Server;
let connections = 0;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-containment-'));
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as AddressInfo).port;
});

afterAll(async () => {
  listener.close();
  await rm(dir, { recursive: true, force: true });
});

/** What the worker does with a file: probe, then extract the three frames. */
async function thumbnails(input: string, options: MediaOptions): Promise<void> {
  const probe = await probeVideo(input, options);
  const times = await frameSeekTimes(
    input,
    probe,
    FRAMES.map((f) => f.fraction),
    options,
  );
  const outputs = FRAMES.map((f) => join(dir, `${Date.now()}-${f.slug}.jpg`));
  await extractFrames(input, times, outputs, { ...options, maxWidth: 640, quality: 3, probe });
}

/** Serves one file over loopback HTTP with ranges, as the range relay does. */
async function serveOverHttp(path: string): Promise<{ url: string; close: () => void }> {
  const body = await readFile(path);
  const server = createHttpServer((req, res) => {
    const [, start = '0'] = /bytes=(\d+)-/.exec(req.headers.range ?? '') ?? [];
    const from = Number(start);
    res.writeHead(206, {
      'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}`,
      'Content-Length': body.length - from,
      'Accept-Ranges': 'bytes',
    });
    res.end(body.subarray(from));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: served } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${served}/x.mp4`, close: () => server.close() };
}

describe.each(mediaBuilds())('$name ffmpeg', (build) => {
  const options = (name: string, extra: Partial<MediaOptions> = {}): MediaOptions => ({
    name,
    timeoutMs: 30_000,
    tools: { ffmpeg: build.ffmpeg, ffprobe: build.ffprobe },
    ...extra,
  });

  describe('hostile files', () => {
    const hostile = () => ({
      'an HLS playlist named .mp4': [
        '#EXTM3U',
        '#EXT-X-TARGETDURATION:10',
        '#EXTINF:10,',
        `http://127.0.0.1:${port}/segment.ts`,
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
      'a concat list named .mp4': `ffconcat version 1.0\nfile 'http://127.0.0.1:${port}/clip.mp4'\n`,
      'an SDP description named .mp4': `v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video ${port} RTP/AVP 96\na=rtpmap:96 H264/90000\n`,
    });

    it.each(['as a local file', 'over HTTP, as through the relay'])(
      'opens no connection for a playlist, concat list or SDP file, %s',
      async (how) => {
        for (const [what, text] of Object.entries(hostile())) {
          const path = join(dir, `${what.replaceAll(' ', '-')}.mp4`);
          await writeFile(path, text);
          const server = how.startsWith('over') ? await serveOverHttp(path) : undefined;
          try {
            const error = await thumbnails(server?.url ?? path, options('uploads/x.mp4')).catch(
              (e: unknown) => e,
            );
            expect(error, what).toMatchObject({ kind: 'not-a-video' });
            expect((error as Error).message, what).toMatch(/^ffprobe could not read uploads\/x\.mp4: /);
          } finally {
            server?.close();
          }
        }
        // Give a connection that ffmpeg might have started time to arrive.
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(connections).toBe(0);
      },
    );
  });

  describe('limits', () => {
    it('refuses a picture over the pixel limit from its header, before decoding', async () => {
      const clip = join(dir, `wide-${build.name}.mp4`);
      await makeNumberedClip(clip, { seconds: 1, size: '640x480' });
      await expect(
        thumbnails(clip, options('uploads/wide.mp4', { limits: { maxPixels: 640 * 479 } })),
      ).rejects.toMatchObject({
        kind: 'too-large',
        message: 'uploads/wide.mp4 is 640×480, over the limit of 0.3 megapixels',
      });
    });

    it('stops counting the frames of a video without a duration at the frame limit', async () => {
      const shape = SHAPES.find((s) => s.piped === 'webm')!;
      const path = join(dir, `live-${build.name}.webm`);
      await makeShape(shape, path);
      await expect(
        thumbnails(path, options('uploads/live.webm', { limits: { maxFrames: 50 } })),
      ).rejects.toMatchObject({
        kind: 'too-large',
        message: 'uploads/live.webm has more than 50 frames (the limit per video)',
      });
      await expect(thumbnails(path, options('uploads/live.webm'))).resolves.toBeUndefined();
    });

    it('stops decoding at the frame limit', async () => {
      // One keyframe in 8 s at 25 fps: the 10 % point (frame 20) takes 21 decoded frames, over 60 / 3.
      const clip = join(dir, `long-gop-${build.name}.mp4`);
      await makeNumberedClip(clip, { seconds: 8, fps: 25, extra: ['-g', '250'] });
      const error = await thumbnails(
        clip,
        options('uploads/long-gop.mp4', { limits: { maxFrames: 60 } }),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnrecoverableError);
      expect(error).toMatchObject({
        kind: 'too-large',
        message:
          'uploads/long-gop.mp4: no frame at 0.800 s within 20 decoded frames (the limit is 60 frames per video)',
      });
      await expect(thumbnails(clip, options('uploads/long-gop.mp4'))).resolves.toBeUndefined();
    });

    it('kills ffmpeg at the memory limit', async () => {
      const clip = join(dir, `uhd-${build.name}.mp4`);
      await makeNumberedClip(clip, { seconds: 0.5, size: '3840x2160' });
      const error = await thumbnails(
        clip,
        options('uploads/uhd.mp4', { limits: { maxMemoryBytes: 48 * 1024 * 1024 } }),
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'too-large' });
      expect((error as Error).message).toMatch(/^ff(probe|mpeg) .*uploads\/uhd\.mp4: .*(memory|allocate)/i);
      await expect(thumbnails(clip, options('uploads/uhd.mp4'))).resolves.toBeUndefined();
    });

    it('ends a never-ending input at the wall-time limit', async () => {
      // A named pipe that gives the start of a stream and then nothing more: ffprobe waits for the rest.
      const fifo = join(dir, `endless-${build.name}.ts`);
      await run('mkfifo', [fifo]);
      const clip = join(dir, `start-${build.name}.ts`);
      await makeNumberedClip(clip, { seconds: 1 });
      const writer = await open(fifo, 'r+');
      await writer.write((await readFile(clip)).subarray(0, 188 * 20));
      const started = Date.now();
      try {
        const error = await thumbnails(fifo, options('uploads/endless.ts', { timeoutMs: 1500 })).catch(
          (e: unknown) => e,
        );
        // Another attempt would wait just as long: dead-lettered at once.
        expect(error).toBeInstanceOf(UnrecoverableError);
        expect(error).toMatchObject({
          kind: 'timed-out',
          message: 'ffprobe could not read uploads/endless.ts: ran out of its time limit',
        });
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        await writer.close();
      }
    });
  });
});
