/**
 * The seed's worker method, kept here only as the baseline the bench compares against (seed 002's Python
 * worker, step for step, with the same ffmpeg options): download the whole object to local disk, ffprobe
 * the duration, run ffmpeg once per position (`-ss <t> -i <file> -vframes 1`, input seek, default JPEG
 * quality), upload `thumbnails/<stem>_<n>.jpg`.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ffmpegPath, ffprobePath } from '@thumbs/runtime';

const run = promisify(execFile);
const POSITIONS = [0.1, 0.5, 0.95];

export interface SeedSettings {
  s3: S3Client;
  bucket: string;
  thumbnailPrefix: string;
  /** Where the download and the JPEGs go (the seed uses the container's temp dir). */
  workDir: string;
}

export async function seedMakeThumbnails(settings: SeedSettings, key: string): Promise<string[]> {
  const { s3, bucket, thumbnailPrefix } = settings;
  const dir = await mkdtemp(join(settings.workDir, 'seed-'));
  try {
    const local = join(dir, basename(key));
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(object.Body as Readable, createWriteStream(local));
    const { stdout } = await run(ffprobePath(), [
      ...['-v', 'error', '-show_entries', 'format=duration'],
      ...['-of', 'default=noprint_wrappers=1:nokey=1', local],
    ]);
    const duration = Number(stdout.trim());
    const stem = basename(key, extname(key));
    const keys: string[] = [];
    for (const [index, position] of POSITIONS.entries()) {
      const out = join(dir, `${stem}_${index + 1}.jpg`);
      await run(ffmpegPath(), ['-y', '-ss', String(duration * position), '-i', local, '-vframes', '1', out]);
      const thumbnail = `${thumbnailPrefix}${stem}_${index + 1}.jpg`;
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: thumbnail,
          Body: await readFile(out),
          ContentType: 'image/jpeg',
        }),
      );
      keys.push(thumbnail);
    }
    return keys;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
