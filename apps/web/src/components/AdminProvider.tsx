'use client';

import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { adoptTokenFromUrl, storedToken, storeToken } from '../lib/admin-token.ts';
import { ApiError } from '../lib/api-client.ts';
import { Toasts, type Toast } from './Toasts.tsx';
import { TokenDialog } from './TokenDialog.tsx';

interface Admin {
  /** REST base of the API ('' = same origin). */
  api: string;
  hasToken: boolean;
  /**
   * Runs an admin call with the session's token, asking for one first when there is none, and again when the
   * API refuses it (401). Resolves undefined when the person cancels.
   */
  withToken<T>(call: (token: string) => Promise<T>): Promise<T | undefined>;
  forgetToken(): void;
  /** Shows a toast; `video` adds a link to that video's detail. */
  notify(kind: Toast['kind'], text: string, video?: string): void;
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

export function AdminProvider({ api, children }: { api: string; children: ReactNode }) {
  const [hasToken, setHasToken] = useState(false);
  const [prompt, setPrompt] = useState<Prompt | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextToastId = useRef(1);

  useEffect(() => {
    adoptTokenFromUrl();
    setHasToken(storedToken() !== null);
  }, []);

  const notify = useCallback((kind: Toast['kind'], text: string, video?: string) => {
    const id = nextToastId.current++;
    setToasts((list) => [...list.slice(-3), { id, kind, text, video }]);
    setTimeout(() => setToasts((list) => list.filter((t) => t.id !== id)), kind === 'error' ? 9000 : 5000);
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

  const admin = useMemo(
    () => ({ api, hasToken, withToken, forgetToken, notify }),
    [api, hasToken, withToken, forgetToken, notify],
  );

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
      <Toasts toasts={toasts} onDismiss={(id) => setToasts((list) => list.filter((t) => t.id !== id))} />
    </AdminContext.Provider>
  );
}
