'use client';

import type { PipelineState } from '@thumbs/model';
import { backoffDelay, RECONNECT_BACKOFF } from '@thumbs/runtime/backoff';
import { useEffect, useState } from 'react';
import { applyMessage, parseServerMessage } from './pipeline-state.ts';

export type LinkStatus = 'connecting' | 'live' | 'down';

export interface LivePipeline {
  /** The last known state; kept (and shown as stale) while the link is down. */
  state: PipelineState | null;
  status: LinkStatus;
  /** When the link went down (ms epoch), null while live. */
  downSince: number | null;
  /** When the next reconnect attempt is due (ms epoch), null when none is scheduled. */
  retryAt: number | null;
}

/** Without any message (the API sends heartbeats) for this long, the connection is presumed dead. */
const SILENCE_LIMIT_MS = 45_000;

/**
 * The pipeline state, live from the API's WebSocket: a snapshot first, then updates. Reconnects with
 * exponential backoff (1 s → 30 s, jittered) and retries at once when the browser comes back online.
 */
export function useLivePipeline(wsUrl: string | null): LivePipeline {
  const [state, setState] = useState<PipelineState | null>(null);
  const [link, setLink] = useState<Omit<LivePipeline, 'state'>>({
    status: 'connecting',
    downSince: null,
    retryAt: null,
  });

  useEffect(() => {
    if (wsUrl === null) return;
    let socket: WebSocket | null = null;
    let failures = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let silenceTimer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;

    const watchSilence = () => {
      clearTimeout(silenceTimer);
      silenceTimer = setTimeout(() => lost(), SILENCE_LIMIT_MS);
    };

    const connect = () => {
      clearTimeout(retryTimer);
      if (stopped) return;
      const ws = new WebSocket(wsUrl);
      socket = ws;
      ws.onopen = watchSilence;
      ws.onmessage = (event) => {
        watchSilence();
        const msg = parseServerMessage(event.data);
        if (!msg) return;
        if (msg.type === 'snapshot') {
          failures = 0;
          setLink({ status: 'live', downSince: null, retryAt: null });
        }
        setState((current) => applyMessage(current, msg));
      };
      ws.onclose = () => lost();
    };

    const lost = () => {
      clearTimeout(silenceTimer);
      if (socket) {
        socket.onopen = socket.onmessage = socket.onclose = null;
        socket.close();
        socket = null;
      }
      if (stopped) return;
      const delay = backoffDelay(RECONNECT_BACKOFF, ++failures);
      const now = Date.now();
      setLink((prev) => ({ status: 'down', downSince: prev.downSince ?? now, retryAt: now + delay }));
      retryTimer = setTimeout(connect, delay);
    };

    const retrySoon = () => {
      if (socket === null && !stopped) connect();
    };
    const onVisible = () => document.visibilityState === 'visible' && retrySoon();

    window.addEventListener('online', retrySoon);
    document.addEventListener('visibilitychange', onVisible);
    connect();
    return () => {
      stopped = true;
      window.removeEventListener('online', retrySoon);
      document.removeEventListener('visibilitychange', onVisible);
      clearTimeout(retryTimer);
      clearTimeout(silenceTimer);
      if (socket) {
        socket.onopen = socket.onmessage = socket.onclose = null;
        socket.close();
      }
    };
  }, [wsUrl]);

  return { state, ...link };
}
