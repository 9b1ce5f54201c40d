/**
 * Sample videos for the test source bucket: short, small and visually distinct clips in several containers,
 * generated once with ffmpeg's synthetic sources and cached under DATA_DIR.
 */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { videoContentType } from '@thumbs/model';
import { ffmpegPath } from '@thumbs/runtime';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Sample {
  name: string;
  /** ffmpeg arguments between the global options and the output file. */
  args: string[];
  /** A rotation tag (degrees), as phones write for portrait video. */
  rotate?: number;
}

const SECONDS = '4';
const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-pix_fmt', 'yuv420p'];
const lavfi = (source: string): string[] => ['-f', 'lavfi', '-i', source];

export const SAMPLES: Sample[] = [
  {
    name: 'testsrc-counter.mp4',
    args: [
      ...lavfi('testsrc=size=320x240:rate=24'),
      ...lavfi('sine=frequency=440:sample_rate=44100'),
      ...x264,
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-t',
      SECONDS,
    ],
  },
  { name: 'smpte-bars.mov', args: [...lavfi('smptehdbars=size=320x180:rate=24'), ...x264, '-t', SECONDS] },
  {
    name: 'mandelbrot zoom.mkv',
    args: [...lavfi('mandelbrot=size=320x240:rate=24:start_scale=2:end_scale=0.05'), ...x264, '-t', SECONDS],
  },
  {
    name: 'colour-wheel.webm',
    args: [
      ...lavfi('rgbtestsrc=size=320x240:rate=24'),
      '-vf',
      'hue=H=2*PI*t/4',
      '-c:v',
      'libvpx',
      '-pix_fmt',
      'yuv420p',
      '-b:v',
      '400k',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-t',
      SECONDS,
    ],
  },
  {
    name: 'game-of-life.avi',
    args: [
      ...lavfi('life=size=320x240:rate=24:mold=10:ratio=0.15:life_color=#33dd66:death_color=#802020'),
      '-c:v',
      'mpeg4',
      '-pix_fmt',
      'yuv420p',
      '-q:v',
      '9',
      '-t',
      SECONDS,
    ],
  },
  {
    name: 'cellular-automaton.flv',
    args: [...lavfi('cellauto=size=320x240:rate=24:rule=110'), '-c:v', 'flv', '-q:v', '5', '-t', SECONDS],
  },
  {
    // A broadcast-style transport stream: no index, a keyframe every second.
    name: 'broadcast-negative.ts',
    args: [...lavfi('testsrc2=size=320x240:rate=25'), '-vf', 'negate', ...x264, '-g', '25', '-t', SECONDS],
  },
  {
    // A phone-style portrait clip: landscape pixels with a rotation tag, as phones record.
    name: 'phone-portrait.mp4',
    args: [...lavfi('testsrc2=size=320x180:rate=30'), ...x264, '-t', SECONDS],
    rotate: 90,
  },
];

export interface SampleProgress {
  index: number;
  total: number;
  sample: Sample;
  state: 'cached' | 'generating' | 'generated';
  bytes?: number;
  ms?: number;
}

/** Generates the samples missing from `dir`; returns their paths. */
export async function generateSamples(
  dir: string,
  onProgress: (progress: SampleProgress) => void,
  samples: Sample[] = SAMPLES,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const ffmpeg = ffmpegPath();
  const paths: string[] = [];
  for (const [index, sample] of samples.entries()) {
    const target = join(dir, sample.name);
    const report = { index: index + 1, total: samples.length, sample };
    if (existsSync(target)) {
      onProgress({ ...report, state: 'cached', bytes: statSync(target).size });
    } else {
      onProgress({ ...report, state: 'generating' });
      const started = Date.now();
      // Written under a temporary name and renamed, so an interrupted run never leaves a truncated sample.
      const partial = join(dir, `.partial-${sample.name}`);
      rmSync(partial, { force: true });
      const quiet = ['-hide_banner', '-loglevel', 'error', '-y'];
      await run(ffmpeg, [...quiet, ...sample.args, partial]);
      if (sample.rotate !== undefined) {
        // ffmpeg 4.1 writes the display matrix only when the tag is set on a stream copy.
        const unrotated = join(dir, `.unrotated-${sample.name}`);
        renameSync(partial, unrotated);
        await run(ffmpeg, [
          ...quiet,
          '-i',
          unrotated,
          '-c',
          'copy',
          '-metadata:s:v:0',
          `rotate=${sample.rotate}`,
          partial,
        ]);
        rmSync(unrotated);
      }
      renameSync(partial, target);
      onProgress({ ...report, state: 'generated', bytes: statSync(target).size, ms: Date.now() - started });
    }
    paths.push(target);
  }
  return paths;
}

/** Uploads each sample the bucket does not hold yet; returns how many were uploaded. */
export async function uploadSamples(s3: S3Client, bucket: string, paths: string[]): Promise<number> {
  let uploaded = 0;
  for (const path of paths) {
    const key = path.slice(path.lastIndexOf('/') + 1);
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      continue;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404)
        throw error;
    }
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: readFileSync(path),
        ContentType: videoContentType(key),
      }),
    );
    uploaded++;
  }
  return uploaded;
}
