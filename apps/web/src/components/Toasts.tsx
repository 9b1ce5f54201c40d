'use client';

import { VideoLink } from './VideoLink.tsx';

export interface Toast {
  id: number;
  kind: 'ok' | 'error' | 'info';
  text: string;
  /** A video the toast is about: it links to its detail. */
  video?: string;
}

export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
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
