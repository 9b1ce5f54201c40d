'use client';

import { useEffect, useRef, type ReactNode } from 'react';

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  onDone,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onDone: (confirmed: boolean) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="confirm-title"
      onCancel={(event) => {
        event.preventDefault();
        onDone(false);
      }}
    >
      <h2 id="confirm-title">{title}</h2>
      <div className="muted">{children}</div>
      <div className="dialog-actions">
        <button type="button" className="btn" autoFocus onClick={() => onDone(false)}>
          Cancel
        </button>
        <button type="button" className="btn btn-danger" onClick={() => onDone(true)}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
