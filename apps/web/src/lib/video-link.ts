'use client';

import { useEffect, useState } from 'react';

/*
 * The open video detail lives in the page's URL (`/?video=<key>`): deep-linkable, and Back closes it.
 * Opening pushes a history entry; components anywhere on the page open one without sharing state.
 */
const PARAM = 'video';
const CHANGED = 'thumbs:video-link';

/** The detail's address, for links (a middle click opens it in a new tab). */
export function videoHref(source: string): string {
  return `?${new URLSearchParams({ [PARAM]: source })}`;
}

function navigate(search: URLSearchParams): void {
  const query = search.toString();
  window.history.pushState(null, '', `${window.location.pathname}${query ? `?${query}` : ''}`);
  window.dispatchEvent(new Event(CHANGED));
}

export function openVideo(source: string): void {
  const params = new URLSearchParams(window.location.search);
  params.set(PARAM, source);
  navigate(params);
}

export function closeVideo(): void {
  const params = new URLSearchParams(window.location.search);
  params.delete(PARAM);
  navigate(params);
}

/** The video whose detail is open, following the URL (links, Back and Forward). */
export function useOpenVideo(): string | null {
  const [source, setSource] = useState<string | null>(null);
  useEffect(() => {
    const read = () => setSource(new URLSearchParams(window.location.search).get(PARAM));
    read();
    window.addEventListener('popstate', read);
    window.addEventListener(CHANGED, read);
    return () => {
      window.removeEventListener('popstate', read);
      window.removeEventListener(CHANGED, read);
    };
  }, []);
  return source;
}
