'use client';

import type { ReactNode } from 'react';
import { ModalDialog } from './ModalDialog.tsx';

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
  return (
    <ModalDialog labelledBy="confirm-title" onCancel={() => onDone(false)}>
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
    </ModalDialog>
  );
}
