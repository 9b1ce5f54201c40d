'use client';

import { FRAME_LABELS, type FrameLabel, type Thumbnail } from '@thumbs/model';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { baseName, formatCount } from '../lib/format.ts';
import { chunk, groupByVideo, type VideoGroup } from '../lib/gallery.ts';
import { KeyLabel } from './KeyLabel.tsx';
import { useOlderThumbnails } from '../lib/use-older-thumbnails.ts';
import { useApiBase } from './ApiBase.tsx';
import { Lightbox } from './Lightbox.tsx';
import { VideoLink } from './VideoLink.tsx';
import { Empty, Panel, Skeleton } from './Panel.tsx';

type FrameFilter = FrameLabel | 'all';

const GAP = 12;
const CARD_PADDING = 10;
const THUMB_GAP = 6;
const CAPTION = 26;

/** Card layout for a container width: all three frames need wide cards, one frame packs more per row. */
function layout(width: number, framesPerCard: number) {
  const minCard = framesPerCard === 1 ? 160 : 400;
  const columns = Math.max(1, Math.floor((width + GAP) / (minCard + GAP)));
  const cardWidth = (width - GAP * (columns - 1)) / columns;
  const thumbWidth = (cardWidth - 2 * CARD_PADDING - THUMB_GAP * (framesPerCard - 1)) / framesPerCard;
  const rowHeight = Math.ceil(CARD_PADDING * 2 + CAPTION + (thumbWidth * 9) / 16 + GAP);
  return { columns, rowHeight };
}

export function Gallery({ thumbnails: live, total }: { thumbnails: Thumbnail[] | null; total: number }) {
  const api = useApiBase();
  const paged = useOlderThumbnails(api, live, total);
  const thumbnails = live && paged.all;
  const [frame, setFrame] = useState<FrameFilter>('all');
  const [search, setSearch] = useState('');
  const [open, setOpen] = useState<{ source: string; frame: FrameLabel } | null>(null);
  const scroller = useRef<HTMLDivElement | null>(null);
  const [width, setWidth] = useState(0);
  const observer = useRef<ResizeObserver | null>(null);
  // A callback ref: the scroller mounts only once the first snapshot has arrived.
  const attachScroller = useCallback((element: HTMLDivElement | null) => {
    scroller.current = element;
    observer.current?.disconnect();
    if (!element) return;
    setWidth(element.clientWidth);
    observer.current = new ResizeObserver(([entry]) => entry && setWidth(entry.contentRect.width));
    observer.current.observe(element);
  }, []);

  const groups = useMemo(() => groupByVideo(thumbnails ?? [], frame, search), [thumbnails, frame, search]);
  const allGroups = useMemo(() => groupByVideo(thumbnails ?? [], 'all'), [thumbnails]);
  const { columns, rowHeight } = layout(width || 800, frame === 'all' ? FRAME_LABELS.length : 1);
  const rows = useMemo(() => chunk(groups, columns), [groups, columns]);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 4,
  });
  useEffect(() => virtualizer.measure(), [virtualizer, rowHeight]);

  const lastShown = virtualizer.getVirtualItems().at(-1)?.index ?? -1;
  const { hasMore, loadMore } = paged;
  useEffect(() => {
    if (hasMore && lastShown >= rows.length - 3) void loadMore();
  }, [hasMore, loadMore, lastShown, rows.length]);

  const openGroup = open ? allGroups.find((g) => g.source === open.source) : undefined;

  return (
    <Panel
      id="gallery"
      title="Thumbnails"
      area="gallery"
      subtitle={
        thumbnails
          ? `${formatCount(Math.max(total, thumbnails.length))} thumbnails · ${formatCount(allGroups.length)} videos` +
            (paged.hasMore ? ` · newest ${formatCount(thumbnails.length)} loaded` : '')
          : undefined
      }
      actions={
        <div className="gallery-tools">
          <input
            className="search"
            type="search"
            placeholder="Filter videos"
            aria-label="Filter videos by name"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
          <div className="segmented" role="group" aria-label="Frame position">
            {(['all', ...FRAME_LABELS] as const).map((option) => (
              <button
                key={option}
                type="button"
                aria-pressed={frame === option}
                data-testid={`frame-filter-${option}`}
                onClick={() => setFrame(option)}
              >
                {option === 'all' ? 'All' : option}
              </button>
            ))}
          </div>
        </div>
      }
    >
      {thumbnails === null ? (
        <Skeleton height={240} />
      ) : (
        <div className="gallery-scroll" ref={attachScroller} data-testid="gallery-scroll">
          {groups.length === 0 ? (
            <Empty>
              {thumbnails.length === 0 ? 'No thumbnails yet.' : 'No thumbnails match this filter.'}
            </Empty>
          ) : (
            <div className="gallery-inner" style={{ height: virtualizer.getTotalSize() }}>
              {virtualizer.getVirtualItems().map((row) => (
                <div
                  key={row.key}
                  className="gallery-row"
                  style={{
                    transform: `translateY(${row.start}px)`,
                    height: rowHeight - GAP,
                    gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))`,
                  }}
                >
                  {rows[row.index]?.map((group) => (
                    <VideoCard
                      key={group.source}
                      group={group}
                      onOpen={(f) => setOpen({ source: group.source, frame: f })}
                    />
                  ))}
                </div>
              ))}
            </div>
          )}
        </div>
      )}
      {open && openGroup && (
        <Lightbox
          group={openGroup}
          frame={open.frame}
          onFrame={(f) => setOpen({ source: open.source, frame: f })}
          onClose={() => setOpen(null)}
        />
      )}
    </Panel>
  );
}

function VideoCard({ group, onOpen }: { group: VideoGroup; onOpen: (frame: FrameLabel) => void }) {
  return (
    <article className="video-card" data-testid="gallery-video" data-source={group.source}>
      <header className="video-card-head">
        <KeyLabel source={group.source} />
        <VideoLink
          source={group.source}
          className="video-card-details"
          label={`Details of ${baseName(group.source)}`}
        >
          Details
        </VideoLink>
      </header>
      <div
        className="video-card-thumbs"
        style={{ gridTemplateColumns: `repeat(${group.thumbnails.length}, 1fr)` }}
      >
        {group.thumbnails.map((thumbnail) => (
          <button
            key={thumbnail.key}
            type="button"
            className="thumb"
            data-testid="thumb"
            data-frame={thumbnail.frame}
            onClick={() => onOpen(thumbnail.frame)}
            aria-label={`Open ${baseName(group.source)} at ${thumbnail.frame}`}
          >
            <img src={thumbnail.url} alt="" loading="lazy" decoding="async" />
            <span className="thumb-frame">{thumbnail.frame}</span>
          </button>
        ))}
      </div>
    </article>
  );
}
