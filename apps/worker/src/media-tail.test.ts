import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath, mediaBuilds } from '@thumbs/runtime';
import { probeVideo } from './ffmpeg.ts';
import { openRangeRelay } from './range-relay.ts';

const run = promisify(execFile);
const SECONDS = 16;
const FPS = 25;

/** Live-recorded files (written to a pipe: no duration, no cues), large enough that reading them all shows. */
const RECORDINGS = [
  {
    name: 'streamed mkv h264',
    file: 'streamed.mkv',
    encode: ['-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '5', '-g', '50', '-f', 'matroska'],
  },
  {
    name: 'webm vp8 as browsers record it',
    file: 'recorded.webm',
    encode: ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '8M', '-f', 'webm'],
  },
];

let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-tail-'));
  for (const recording of RECORDINGS) {
    // Noise keeps the bitrate up; the duration comes from the source, so the muxer never learns it.
    const source = `testsrc2=size=320x240:rate=${FPS}:d=${SECONDS},noise=alls=60:allf=t`;
    const { stdout } = await run(
      ffmpegPath(),
      ['-v', 'error', '-f', 'lavfi', '-i', source, ...recording.encode, 'pipe:1'],
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
    );
    await writeFile(join(dir, recording.file), stdout);
  }
  // Storage as the relay sees it: any byte range of the files.
  server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(req.url ?? '/').slice(1));
    void stat(path).then(({ size }) => {
      const [, from = '0', to = ''] = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '') ?? [];
      const [start, end] = [Number(from), to ? Math.min(Number(to), size - 1) : size - 1];
      res.writeHead(206, {
        'Content-Range': `bytes ${start}-${end}/${size}`,
        'Content-Length': end - start + 1,
      });
      createReadStream(path, { start, end }).pipe(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 240_000);

afterAll(async () => {
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(mediaBuilds())('$name ffmpeg', (build) => {
  it.each(RECORDINGS)(
    'finds the duration of a $name from its header and tail, not the whole file',
    async ({ name, file }) => {
      const size = (await stat(join(dir, file))).size;
      const relay = await openRangeRelay(`${base}/${file}`, file);
      try {
        const options = { name, timeoutMs: 60_000, tools: { ffmpeg: build.ffmpeg, ffprobe: build.ffprobe } };
        const probe = await probeVideo(relay.url, options);
        expect(probe.duration).toBeCloseTo(SECONDS, 1);
        expect(probe.lastFrameTime).toBeCloseTo(SECONDS - 1 / FPS, 2);
        expect(size).toBeGreaterThan(5_000_000);
        // The header windows, one tail of at most a few MiB, and nothing in between.
        expect(relay.stats().bytes).toBeLessThan(Math.min(size / 2, 6 * 1024 * 1024));
      } finally {
        await relay.close();
      }
    },
  );
});
