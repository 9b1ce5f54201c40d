'use client';

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { adoptTokenFromUrl, storedToken, storeToken } from '../lib/admin-token.ts';
import { ApiError } from '../lib/api-client.ts';
import { useNotify } from './Toasts.tsx';
import { TokenDialog } from './TokenDialog.tsx';

interface Admin {
  hasToken: boolean;
  /**
   * Runs an admin call with the session's token, asking for one first when there is none, and again when the
   * API refuses it (401). Resolves undefined when the person cancels.
   */
  withToken<T>(call: (token: string) => Promise<T>): Promise<T | undefined>;
  forgetToken(): void;
}

const AdminContext = createContext<Admin | null>(null);

export function useAdmin(): Admin {
  const admin = useContext(AdminContext);
  if (!admin) throw new Error('useAdmin outside AdminProvider');
  return admin;
}

interface Prompt {
  reason: string;
  resolve: (token: string | null) => void;
}

/** The admin token of this session: asked for when an action needs it, forgotten on request. */
export function AdminProvider({ children }: { children: ReactNode }) {
  const [hasToken, setHasToken] = useState(false);
  const [prompt, setPrompt] = useState<Prompt | null>(null);
  const notify = useNotify();

  useEffect(() => {
    adoptTokenFromUrl();
    setHasToken(storedToken() !== null);
  }, []);

  const ask = useCallback(
    (reason: string) => new Promise<string | null>((resolve) => setPrompt({ reason, resolve })),
    [],
  );

  const withToken = useCallback(
    async <T,>(call: (token: string) => Promise<T>): Promise<T | undefined> => {
      let token = storedToken() ?? (await ask('This action needs the admin token.'));
      while (token) {
        storeToken(token);
        setHasToken(true);
        try {
          return await call(token);
        } catch (error) {
          if (!(error instanceof ApiError) || error.status !== 401) throw error;
          storeToken(null);
          setHasToken(false);
          token = await ask('The API refused that token. Enter the admin token.');
        }
      }
      return undefined;
    },
    [ask],
  );

  const forgetToken = useCallback(() => {
    storeToken(null);
    setHasToken(false);
    notify('info', 'Admin token forgotten for this session');
  }, [notify]);

  const admin = useMemo(() => ({ hasToken, withToken, forgetToken }), [hasToken, withToken, forgetToken]);

  return (
    <AdminContext.Provider value={admin}>
      {children}
      {prompt && (
        <TokenDialog
          reason={prompt.reason}
          onDone={(token) => {
            setPrompt(null);
            prompt.resolve(token);
          }}
        />
      )}
    </AdminContext.Provider>
  );
}
