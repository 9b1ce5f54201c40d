import { FRAME_LABELS, type FrameLabel, type Thumbnail } from '@thumbs/model';

export interface VideoGroup {
  source: string;
  /** The video's thumbnails in frame order (10 %, 50 %, 95 %); missing frames are absent. */
  thumbnails: Thumbnail[];
  latest: string;
}

/**
 * Groups thumbnails by video, newest video first, keeping only the chosen frame (or all) and the videos
 * whose key contains `search` (case-insensitive).
 */
export function groupByVideo(thumbnails: Thumbnail[], frame: FrameLabel | 'all', search = ''): VideoGroup[] {
  const needle = search.trim().toLowerCase();
  const groups = new Map<string, VideoGroup>();
  for (const thumbnail of thumbnails) {
    if (frame !== 'all' && thumbnail.frame !== frame) continue;
    if (needle && !thumbnail.source.toLowerCase().includes(needle)) continue;
    const group = groups.get(thumbnail.source);
    if (group) {
      group.thumbnails.push(thumbnail);
      if (thumbnail.lastModified > group.latest) group.latest = thumbnail.lastModified;
    } else {
      groups.set(thumbnail.source, {
        source: thumbnail.source,
        thumbnails: [thumbnail],
        latest: thumbnail.lastModified,
      });
    }
  }
  const order = (label: FrameLabel) => FRAME_LABELS.indexOf(label);
  return [...groups.values()]
    .map((g) => ({ ...g, thumbnails: g.thumbnails.sort((a, b) => order(a.frame) - order(b.frame)) }))
    .sort((a, b) =>
      a.latest === b.latest ? a.source.localeCompare(b.source) : a.latest < b.latest ? 1 : -1,
    );
}

/** Splits items into rows of `columns`. */
export function chunk<T>(items: T[], columns: number): T[][] {
  const rows: T[][] = [];
  for (let i = 0; i < items.length; i += columns) rows.push(items.slice(i, i + columns));
  return rows;
}

/** The live thumbnails followed by older pages fetched from the API, each key once (the live entry wins). */
export function withOlder(live: Thumbnail[], older: Thumbnail[]): Thumbnail[] {
  if (older.length === 0) return live;
  const known = new Set(live.map((t) => t.key));
  return [...live, ...older.filter((t) => !known.has(t.key))];
}
