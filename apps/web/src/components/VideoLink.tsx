'use client';

import type { ReactNode } from 'react';
import { openVideo, videoHref } from '../lib/video-link.ts';

/** A link to a video's detail: a plain click opens it in place, a modified one keeps the browser's own. */
export function VideoLink({
  source,
  className,
  label,
  onOpen,
  children,
}: {
  source: string;
  className?: string;
  /** The accessible name, when the visible text alone does not say which video. */
  label?: string;
  /** Called as the detail opens in place (a lightbox closes itself, say). */
  onOpen?: () => void;
  children: ReactNode;
}) {
  return (
    <a
      href={videoHref(source)}
      className={className}
      aria-label={label}
      data-testid="video-link"
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        onOpen?.();
        openVideo(source);
      }}
    >
      {children}
    </a>
  );
}
