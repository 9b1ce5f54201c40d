const STORAGE_KEY = 'thumbs.adminToken';

/** The admin token for this browser tab's session, if any. */
export function storedToken(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(STORAGE_KEY, token);
  else sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * Local mode prints a link ending in `#token=<token>`: keep that token for the session and take it out of
 * the address bar (and so out of the history and screenshots).
 */
export function adoptTokenFromUrl(): void {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const token = params.get('token');
  if (!token) return;
  storeToken(token);
  params.delete('token');
  const rest = params.toString();
  const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : '');
  window.history.replaceState(window.history.state, '', url);
}
