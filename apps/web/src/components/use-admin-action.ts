'use client';

import { useCallback, useState } from 'react';
import { apiRequest } from '../lib/api-client.ts';
import { useAdmin } from './AdminProvider.tsx';
import { useApiBase } from './ApiBase.tsx';
import { useNotify } from './Toasts.tsx';

export interface AdminCall {
  path: string;
  method: 'POST' | 'DELETE';
  /** Said in the toast before the API's reason when the call fails, e.g. "Purge failed". */
  failure: string;
}

/**
 * Admin actions behind buttons: each runs with the session's token (asked for when there is none), marks
 * which action is busy meanwhile, and says a failure in a toast. `run` resolves with the API's answer, or
 * undefined when no token was given or the call failed.
 */
export function useAdminAction<Action extends string>() {
  const admin = useAdmin();
  const api = useApiBase();
  const notify = useNotify();
  const [busy, setBusy] = useState<Action | null>(null);
  const run = useCallback(
    async <T>(action: Action, call: AdminCall): Promise<T | undefined> => {
      setBusy(action);
      try {
        return await admin.withToken((token) =>
          apiRequest<T>(api, call.path, { method: call.method, token }),
        );
      } catch (error) {
        notify('error', `${call.failure}: ${(error as Error).message}`);
        return undefined;
      } finally {
        setBusy(null);
      }
    },
    [admin, api, notify],
  );
  return { busy, run, notify };
}
