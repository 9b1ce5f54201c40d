'use client';

import { useState } from 'react';
import { ModalDialog } from './ModalDialog.tsx';

/** A modal asking for the admin token; onDone(null) when cancelled. */
export function TokenDialog({ reason, onDone }: { reason: string; onDone: (token: string | null) => void }) {
  const [value, setValue] = useState('');

  return (
    <ModalDialog labelledBy="token-title" onCancel={() => onDone(null)}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          const token = value.trim();
          if (token) onDone(token);
        }}
      >
        <h2 id="token-title">Admin token</h2>
        <p className="muted">{reason}</p>
        <p className="muted small">
          Local mode prints it at start, with a link that signs you in. It is kept for this browser tab only.
        </p>
        <label className="field">
          <span>Token</span>
          <input
            name="token"
            type="password"
            autoComplete="off"
            autoFocus
            value={value}
            onChange={(event) => setValue(event.target.value)}
          />
        </label>
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={() => onDone(null)}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={!value.trim()}>
            Continue
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}
