'use client';

import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from 'react';
import { VideoLink } from './VideoLink.tsx';

export interface Toast {
  id: number;
  kind: 'ok' | 'error' | 'info';
  text: string;
  /** A video the toast is about: it links to its detail. */
  video?: string;
}

/** Shows a toast; `video` adds a link to that video's detail. */
export type Notify = (kind: Toast['kind'], text: string, video?: string) => void;

const NotifyContext = createContext<Notify | null>(null);

export function useNotify(): Notify {
  const notify = useContext(NotifyContext);
  if (!notify) throw new Error('useNotify outside ToastProvider');
  return notify;
}

/** The last few toasts, each gone after a few seconds (errors stay longer). */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const notify = useCallback<Notify>((kind, text, video) => {
    const id = nextId.current++;
    setToasts((list) => [...list.slice(-3), { id, kind, text, video }]);
    setTimeout(() => setToasts((list) => list.filter((t) => t.id !== id)), kind === 'error' ? 9000 : 5000);
  }, []);
  return (
    <NotifyContext.Provider value={notify}>
      {children}
      <Toasts toasts={toasts} onDismiss={(id) => setToasts((list) => list.filter((t) => t.id !== id))} />
    </NotifyContext.Provider>
  );
}

function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((toast) => (
        <div key={toast.id} className={`toast toast-${toast.kind}`} data-testid="toast">
          <span>
            {toast.text}
            {toast.video && (
              <>
                {' '}
                <VideoLink source={toast.video} className="toast-link">
                  Details
                </VideoLink>
              </>
            )}
          </span>
          <button
            type="button"
            className="toast-close"
            aria-label="Dismiss"
            onClick={() => onDismiss(toast.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
