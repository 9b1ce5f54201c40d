'use client';

import type { FrameLabel } from '@thumbs/model';
import { useEffect, useRef } from 'react';
import { baseName, formatBytes } from '../lib/format.ts';
import type { VideoGroup } from '../lib/gallery.ts';
import { VideoLink } from './VideoLink.tsx';

/** The larger view of one video's thumbnails; ← → switch frames, Esc closes. */
export function Lightbox({
  group,
  frame,
  onFrame,
  onClose,
}: {
  group: VideoGroup;
  frame: FrameLabel;
  onFrame: (frame: FrameLabel) => void;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const index = Math.max(
    0,
    group.thumbnails.findIndex((t) => t.frame === frame),
  );
  const current = group.thumbnails[index];

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);

  const step = (delta: number) => {
    const next = group.thumbnails[(index + delta + group.thumbnails.length) % group.thumbnails.length];
    if (next) onFrame(next.frame);
  };

  return (
    <dialog
      ref={dialog}
      className="lightbox"
      aria-label={`${baseName(group.source)} thumbnails`}
      data-testid="lightbox"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => event.target === dialog.current && onClose()}
      onKeyDown={(event) => {
        if (event.key === 'ArrowRight') step(1);
        if (event.key === 'ArrowLeft') step(-1);
      }}
    >
      <div className="lightbox-body">
        <header className="lightbox-head">
          <span className="mono" title={group.source}>
            {group.source}
          </span>
          <VideoLink source={group.source} className="btn btn-small lightbox-details" onOpen={onClose}>
            Details
          </VideoLink>
          <button type="button" className="btn btn-ghost" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        {current && (
          <figure className="lightbox-figure">
            <img src={current.url} alt={`${group.source} at ${current.frame} of its duration`} />
            <figcaption className="muted small">
              {current.frame} of the duration · {formatBytes(current.size)} ·{' '}
              {new Date(current.lastModified).toLocaleString()}
            </figcaption>
          </figure>
        )}
        <div className="segmented" role="group" aria-label="Frame">
          {group.thumbnails.map((t) => (
            <button
              key={t.key}
              type="button"
              aria-pressed={t.frame === current?.frame}
              onClick={() => onFrame(t.frame)}
            >
              {t.frame}
            </button>
          ))}
        </div>
      </div>
    </dialog>
  );
}
