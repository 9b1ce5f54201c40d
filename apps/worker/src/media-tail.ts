import { open } from 'node:fs/promises';

/** Bytes read from the start of the file for its header (EBML head, segment info, tracks). */
const HEAD_BYTES = 256 * 1024;

const CLUSTER_ID = Buffer.from([0x1f, 0x43, 0xb6, 0x75]);
/** A cluster's Timestamp element, the first thing muxers write in a cluster (after an optional CRC-32). */
const CLUSTER_TIMESTAMP_ID = 0xe7;
/** A CRC-32 element: its ID, its size (4) and the checksum. */
const CRC32_ID = 0xbf;
const CRC32_BYTES = 6;

interface Bytes {
  data: Buffer;
  /** The file's size. */
  total: number;
}

/**
 * `length` bytes from `start` of a local file or an HTTP URL (the range relay, which may answer a range in
 * several shorter windows: asked again from where each ended).
 */
async function readBytes(input: string, start: number, length: number, signal?: AbortSignal): Promise<Bytes> {
  if (!/^https?:\/\//i.test(input)) {
    const file = await open(input);
    try {
      const total = (await file.stat()).size;
      const data = Buffer.alloc(Math.max(0, Math.min(length, total - start)));
      await file.read(data, 0, data.length, start);
      return { data, total };
    } finally {
      await file.close();
    }
  }
  const parts: Buffer[] = [];
  let total = Infinity;
  for (let at = start, end = start + length - 1; at <= Math.min(end, total - 1);) {
    const answer = await fetch(input, { headers: { range: `bytes=${at}-${end}` }, signal });
    const body = Buffer.from(await answer.arrayBuffer());
    const size = Number(/\/(\d+)$/.exec(answer.headers.get('content-range') ?? '')?.[1]);
    if (answer.status !== 206 || !Number.isFinite(size) || body.length === 0) {
      throw new Error(`range read of ${at}-${end} answered ${answer.status}`);
    }
    total = size;
    parts.push(body);
    at += body.length;
  }
  return { data: Buffer.concat(parts), total };
}

/** Bytes of the Matroska header: everything before the first cluster. */
function matroskaHeader(head: Buffer): number | undefined {
  const isEbml = head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3;
  const firstCluster = head.indexOf(CLUSTER_ID);
  return isEbml && firstCluster > 0 ? firstCluster : undefined;
}

/** EBML's variable-length size: its length in bytes, from the leading zeros of the first byte. */
function vintLength(first: number): number {
  return first === 0 ? 9 : Math.clz32(first) - 23;
}

/** Where the first whole cluster starts in the tail; -1 when none does. */
function firstCluster(tail: Buffer): number {
  for (let at = tail.indexOf(CLUSTER_ID); at >= 0; at = tail.indexOf(CLUSTER_ID, at + 1)) {
    const sizeAt = at + CLUSTER_ID.length;
    let child = sizeAt + vintLength(tail[sizeAt] ?? 0);
    if (tail[child] === CRC32_ID) child += CRC32_BYTES;
    // Four bytes of frame data can look like a cluster ID: a real cluster opens with its timestamp.
    if (tail[child] === CLUSTER_TIMESTAMP_ID) return at;
  }
  return -1;
}

/** Tail sizes tried in turn until a cluster starts in the tail (recorders start one every few seconds). */
export const TAIL_BYTES = [1, 4, 16].map((mib) => mib * 1024 * 1024);

/**
 * A stand-in for a Matroska/WebM file whose header carries no duration (as browsers and streamers write
 * them): its header followed by its last bytes, from the first cluster that starts in them. Cluster
 * timestamps are absolute, so the stand-in's last packets are the file's, and the duration costs a read of
 * the header and the tail instead of the whole file. Undefined for other containers (ffmpeg finds a
 * fragmented MP4's duration itself, from each fragment's header), for files not much larger than what
 * would be read, and when no cluster starts in the largest tail.
 */
export async function headerAndTail(input: string, signal?: AbortSignal): Promise<Buffer | undefined> {
  const head = await readBytes(input, 0, HEAD_BYTES, signal);
  const headerEnd = matroskaHeader(head.data);
  if (headerEnd === undefined) return undefined;
  for (const tailBytes of TAIL_BYTES) {
    if (head.total <= 2 * (HEAD_BYTES + tailBytes)) return undefined;
    const { data: tail } = await readBytes(input, head.total - tailBytes, tailBytes, signal);
    const cluster = firstCluster(tail);
    if (cluster >= 0) return Buffer.concat([head.data.subarray(0, headerEnd), tail.subarray(cluster)]);
  }
  return undefined;
}
