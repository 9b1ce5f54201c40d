import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeVideo } from './ffmpeg.ts';
import { videoInfo } from './process-video.ts';
import { makeNumberedClip } from '@thumbs/local/testing';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-video-info-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the probe's findings, as the pipeline keeps them", () => {
  it('names size, duration, codec, container, bit rate and the display rotation of phone video', async () => {
    const clip = join(dir, 'phone.mp4');
    await makeNumberedClip(clip, { seconds: 2, rotate: 90 });
    const { size } = await stat(clip);
    const info = videoInfo(await probeVideo(clip, { name: clip, timeoutMs: 30_000 }), size);
    expect(info).toMatchObject({ width: 320, height: 240, codec: 'h264', size });
    // A quarter turn: ffmpeg releases disagree on which way the `rotate` tag they are given turns the picture.
    expect([90, 270]).toContain(info.rotation);
    expect(info.durationSeconds).toBeCloseTo(2, 1);
    expect(info.container).toMatch(/MOV|mp4/i);
    expect(info.bitRate).toBeGreaterThan(0);
    expect(Number.isInteger(info.bitRate)).toBe(true);
  });

  it('says 0° for video stored upright', async () => {
    const clip = join(dir, 'upright.mp4');
    await makeNumberedClip(clip, { seconds: 1 });
    const info = videoInfo(await probeVideo(clip, { name: clip, timeoutMs: 30_000 }), undefined);
    expect(info).toMatchObject({ rotation: 0, size: null });
  });
});
