import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAMES } from '@thumbs/model';
import { mediaBuilds } from '@thumbs/runtime';
import { extractFrames, probeVideo, seekTimes } from './ffmpeg.ts';
import { JobError, UnrecoverableError } from './failure.ts';
import { decodeGray, makeAudioOnly, makeNumberedClip, readFrameNumber } from '@thumbs/local/testing';

const run = promisify(execFile);
let dir: string;
const media = (name: string) => ({ name, timeoutMs: 30_000, maxWidth: 640, quality: 3 });
const fractions = FRAMES.map((f) => f.fraction);

async function thumbnailsOf(input: string) {
  const probe = await probeVideo(input, media(input));
  const times = seekTimes(probe, fractions);
  const outputs = ['a', 'b', 'c'].map((n) => join(dir, `${n}-${Date.now()}.jpg`));
  await extractFrames(input, times, outputs, { ...media(input), probe });
  return { probe, times, images: await Promise.all(outputs.map(decodeGray)) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-ffmpeg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('frame extraction', () => {
  it('takes the frames at 10, 50 and 95 % of the duration, to the frame', async () => {
    // 10 fps × 4 s = frames 0…39: 10 % → frame 4, 50 % → 20, 95 % → 38.
    const clip = join(dir, 'numbered.mp4');
    await makeNumberedClip(clip, { seconds: 4 });
    const { probe, images } = await thumbnailsOf(clip);
    expect(probe.duration).toBeCloseTo(4, 1);
    const frames = images.map(readFrameNumber);
    expect(frames[0]).toBeGreaterThanOrEqual(3);
    expect(frames[0]).toBeLessThanOrEqual(5);
    expect(frames[1]).toBeGreaterThanOrEqual(19);
    expect(frames[1]).toBeLessThanOrEqual(21);
    expect(frames[2]).toBeGreaterThanOrEqual(37);
    expect(frames[2]).toBeLessThanOrEqual(39);
  });

  it('reads MPEG-TS, which has no index, to the frame', async () => {
    // The npm ffprobe used to crash (exit 139) on every .ts file; keyframes each second as cameras write them.
    const clip = join(dir, 'numbered.ts');
    await makeNumberedClip(clip, { seconds: 4 });
    const { probe, images } = await thumbnailsOf(clip);
    expect(probe.duration).toBeCloseTo(4, 0);
    const frames = images.map(readFrameNumber);
    for (const [index, expected] of [4, 20, 38].entries()) {
      expect(Math.abs((frames[index] ?? -99) - expected)).toBeLessThanOrEqual(1);
    }
  });

  it('is accurate between keyframes of a long-GOP clip with B-frames', async () => {
    // 25 fps × 8 s, one keyframe every 8 s: every point needs decoding from the first keyframe on.
    const clip = join(dir, 'long-gop.mp4');
    await makeNumberedClip(clip, { seconds: 8, fps: 25, extra: ['-g', '200', '-bf', '2'] });
    const { images } = await thumbnailsOf(clip);
    const frames = images.map(readFrameNumber);
    // 200 frames do not fit in 8 bits: the low 8 bits of 20, 100 and 190.
    for (const [index, expected] of [20, 100, 190].entries()) {
      expect(Math.abs((frames[index] ?? -99) - expected)).toBeLessThanOrEqual(1);
    }
  });

  it('turns rotated phone video upright', async () => {
    const clip = join(dir, 'rotated.mp4');
    await makeNumberedClip(clip, { seconds: 2, rotate: 90 });
    const { probe, images } = await thumbnailsOf(clip);
    expect([probe.width, probe.height]).toEqual([320, 240]);
    for (const image of images) expect([image.width, image.height]).toEqual([240, 320]);
  });

  it('gives three frames of a 0.3 s clip, none past the last frame', async () => {
    const clip = join(dir, 'short.mp4');
    await makeNumberedClip(clip, { seconds: 0.3 });
    const { probe, times, images } = await thumbnailsOf(clip);
    expect(times.every((t) => t <= probe.lastFrameTime)).toBe(true);
    expect(images.map(readFrameNumber)).toEqual([0, 1, 2]);
  });

  it('falls back to the last frame when a seek point lies past the end', async () => {
    const clip = join(dir, 'two-seconds.mp4');
    await makeNumberedClip(clip, { seconds: 2 });
    const output = join(dir, 'past-end.jpg');
    await extractFrames(clip, [5], [output], media(clip));
    const image = await decodeGray(output);
    expect(readFrameNumber(image)).toBe(19);
  });

  it('scales wide video down to the maximum width, keeping the aspect ratio', async () => {
    const clip = join(dir, 'wide.mp4');
    await makeNumberedClip(clip, { seconds: 1, size: '1280x720' });
    const { images } = await thumbnailsOf(clip);
    for (const image of images) expect([image.width, image.height]).toEqual([640, 360]);
  });
});

describe.each(mediaBuilds())('cut-short files, $name ffmpeg', (build) => {
  it('takes the last decodable frame when a point lies past the real end, whatever the GOP', async () => {
    // One keyframe in 8 s, the file cut at 60 %: its header still says 8 s and has lost its cues, so the
    // 95 % point (7.6 s) is past the last frame (~4.8 s), seconds after the only keyframe.
    const whole = join(dir, `whole-${build.name}.mkv`);
    await makeNumberedClip(whole, { seconds: 8, fps: 25, extra: ['-g', '250'] });
    const bytes = await readFile(whole);
    const cut = join(dir, `cut-${build.name}.mkv`);
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const options = { ...media(cut), tools: { ffmpeg: build.ffmpeg, ffprobe: build.ffprobe } };
    const probe = await probeVideo(cut, options);
    expect(probe.duration).toBeCloseTo(8, 1);
    const outputs = ['a', 'b', 'c'].map((n) => join(dir, `cut-${build.name}-${n}.jpg`));
    await extractFrames(cut, seekTimes(probe, fractions), outputs, { ...options, probe });
    const frames = (await Promise.all(outputs.map(decodeGray))).map(readFrameNumber);
    const packets = await run(build.ffprobe, [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', cut],
    ]);
    const lastPacket = Math.round(Number(packets.stdout.trim().split('\n').at(-1)) * 25);
    expect(frames.slice(0, 2)).toEqual([20, 100]);
    expect(lastPacket).toBeLessThan(150);
    // The last frame, or the one before when the cut leaves the last packet incomplete.
    expect(lastPacket - (frames[2] ?? 0)).toBeGreaterThanOrEqual(0);
    expect(lastPacket - (frames[2] ?? 0)).toBeLessThanOrEqual(1);
  });
});

describe('unreadable media', () => {
  it('reports a file without a video stream', async () => {
    const audio = join(dir, 'audio.m4a');
    await makeAudioOnly(audio);
    const error = await probeVideo(audio, media('uploads/audio.mp4')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error).toMatchObject({ kind: 'no-video-stream', message: 'no video stream in uploads/audio.mp4' });
  });

  it('reports a corrupt file by name, not by its (secret-bearing) path', async () => {
    const corrupt = join(dir, 'corrupt.mp4');
    await writeFile(corrupt, Buffer.from('this is not a video at all'.repeat(100)));
    const error = await probeVideo(corrupt, media('uploads/corrupt.mp4')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).kind).toBe('not-a-video');
    expect((error as Error).message).toMatch(/^ffprobe could not read uploads\/corrupt\.mp4: /);
    expect((error as Error).message).not.toContain(dir);
  });
});
