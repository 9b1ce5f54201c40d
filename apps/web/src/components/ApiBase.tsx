'use client';

import { createContext, useContext, type ReactNode } from 'react';

const ApiBaseContext = createContext<string | null>(null);

/** The API's REST base for everything below ('' = the page's own origin). */
export function ApiBaseProvider({ api, children }: { api: string; children: ReactNode }) {
  return <ApiBaseContext.Provider value={api}>{children}</ApiBaseContext.Provider>;
}

export function useApiBase(): string {
  const api = useContext(ApiBaseContext);
  if (api === null) throw new Error('useApiBase outside ApiBaseProvider');
  return api;
}
