/**
 * Where the browser finds the API. An empty base means same origin: behind the ALB, `/api` and `/ws` live on
 * the page's own host. In local mode the web server passes API_PUBLIC_URL (http://localhost:8000).
 */
export interface ApiEndpoints {
  /** Base for REST calls, without a trailing slash ('' = same origin). */
  http: string;
  /** Absolute WebSocket URL of `/ws`. */
  ws: string;
}

export function apiEndpoints(apiBase: string, page: { protocol: string; host: string }): ApiEndpoints {
  const base = apiBase.trim().replace(/\/+$/, '');
  if (base === '') {
    const scheme = page.protocol === 'https:' ? 'wss:' : 'ws:';
    return { http: '', ws: `${scheme}//${page.host}/ws` };
  }
  const url = new URL(base);
  const scheme = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http: base, ws: `${scheme}//${url.host}${url.pathname.replace(/\/+$/, '')}/ws` };
}
