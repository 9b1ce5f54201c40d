import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAMES } from '@thumbs/model';
import { mediaBuilds } from '@thumbs/runtime';
import { extractFrames, frameSeekTimes, probeVideo } from './ffmpeg.ts';
import { decodeGray } from '@thumbs/local/testing';
import { colourCast, expectedFrames, makeShape, readCode, SHAPES, type Shape } from './testing/corpus.ts';

const fractions = FRAMES.map((f) => f.fraction);
const builds = mediaBuilds();

/**
 * Shapes a build cannot decode at all, and the failure the worker must then report (never a silent skip):
 * the npm build is a 2018 static ffmpeg.
 */
const UNSUPPORTED: Record<string, Record<string, string>> = {
  npm: {},
};

let dir: string;
const files = new Map<Shape, string>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-corpus-'));
  // Two at a time: the machine's cores are shared.
  const queue = [...SHAPES];
  const make = async () => {
    for (let shape = queue.shift(); shape; shape = queue.shift()) {
      const path = join(dir, `${SHAPES.indexOf(shape)}${shape.ext}`);
      await makeShape(shape, path);
      files.set(shape, path);
    }
  };
  await Promise.all([make(), make()]);
}, 300_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('covers at least 25 shapes with both supported ffmpeg builds', () => {
  expect(new Set(SHAPES.map((s) => s.name)).size).toBeGreaterThanOrEqual(25);
  expect(builds.map((b) => b.name).sort()).toEqual(['npm', 'system']);
});

describe.each(builds)('$name ffmpeg', (build) => {
  const tools = { ffmpeg: build.ffmpeg, ffprobe: build.ffprobe };

  async function thumbnails(shape: Shape) {
    const input = files.get(shape)!;
    const media = { name: shape.name, timeoutMs: 60_000, tools, maxWidth: 640, quality: 3 };
    const probe = await probeVideo(input, media);
    const outputs = FRAMES.map((f) => join(dir, `${SHAPES.indexOf(shape)}-${build.name}-${f.slug}.jpg`));
    const times = await frameSeekTimes(input, probe, fractions, media);
    await extractFrames(input, times, outputs, { ...media, probe });
    return { probe, outputs, images: await Promise.all(outputs.map(decodeGray)) };
  }

  it.each(SHAPES.filter((s) => !UNSUPPORTED[build.name]?.[s.name]))('$name', async (shape) => {
    const { probe, outputs, images } = await thumbnails(shape);
    const expected = expectedFrames(shape, fractions, probe.duration);
    expect(images.map((image) => readCode(image, shape.rotate))).toEqual(expected);
    const [width = 0, height = 0] =
      shape.thumbnailSize ?? [320, 240].map((d, i) => Number(shape.size?.split('x')[i] ?? d));
    for (const image of images) expect([image.width, image.height]).toEqual([width, height]);
    for (const output of outputs) expect(await colourCast(output, width, height)).toBeLessThan(24);
  });

  const unsupported = Object.entries(UNSUPPORTED[build.name] ?? {});
  it.runIf(unsupported.length > 0).each(unsupported)('cannot decode %s: %s', async (name, reason) => {
    const shape = SHAPES.find((s) => s.name === name)!;
    await expect(thumbnails(shape), reason).rejects.toMatchObject({ kind: 'unsupported-codec' });
  });
});
