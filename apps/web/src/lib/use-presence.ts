'use client';

import { useEffect, useRef, useState } from 'react';

export interface Presence<T> {
  item: T;
  leaving: boolean;
}

/**
 * Keeps items that disappeared from `items` for `exitMs`, flagged `leaving`, so that they can animate out
 * (pods terminating) instead of vanishing.
 */
export function usePresence<T>(items: T[], keyOf: (item: T) => string, exitMs: number): Presence<T>[] {
  const [leaving, setLeaving] = useState<ReadonlyMap<string, T>>(() => new Map());
  const previous = useRef<T[]>(items);
  const keyRef = useRef(keyOf);
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());

  useEffect(() => {
    keyRef.current = keyOf;
  });

  useEffect(() => {
    const key = keyRef.current;
    const current = new Set(items.map(key));
    const gone = previous.current.filter((item) => !current.has(key(item)));
    previous.current = items;
    if (gone.length === 0) return;
    setLeaving((map) => new Map([...map, ...gone.map((item) => [key(item), item] as const)]));
    const timer = setTimeout(() => {
      timers.current.delete(timer);
      setLeaving((map) => new Map([...map].filter(([k]) => !gone.some((item) => key(item) === k))));
    }, exitMs);
    timers.current.add(timer);
  }, [items, exitMs]);

  useEffect(() => {
    const pending = timers.current;
    return () => pending.forEach(clearTimeout);
  }, []);

  const present = new Set(items.map(keyOf));
  return [
    ...items.map((item) => ({ item, leaving: false })),
    ...[...leaving.entries()]
      .filter(([key]) => !present.has(key))
      .map(([, item]) => ({ item, leaving: true })),
  ];
}
