import { NextResponse, type NextRequest } from 'next/server';

/**
 * The Content-Security-Policy, per request: one image serves every environment, so the API's origin
 * (API_PUBLIC_URL) is read at run time, and Next puts the per-request nonce on its own inline scripts.
 */
function contentSecurityPolicy(nonce: string, apiBase: string, host: string): string {
  const api = apiBase ? new URL(apiBase) : undefined;
  const apiOrigins = api ? [api.origin, `${api.protocol === 'https:' ? 'wss' : 'ws'}://${api.host}`] : [];
  // Presigned S3 URLs (thumbnails, upload PUTs): AWS in the cloud, the emulator on loopback in local mode.
  const local = api?.protocol === 'http:' ? ['http://localhost:*', 'http://127.0.0.1:*'] : [];
  const storage = ['https://*.amazonaws.com', ...local];
  const dev = process.env.NODE_ENV === 'development' ? " 'unsafe-eval'" : '';
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev}`,
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob: ${storage.join(' ')}`,
    `connect-src 'self' wss://${host} ws://${host} ${[...apiOrigins, ...storage].join(' ')}`,
    "font-src 'self' data:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.randomUUID()).toString('base64');
  const host = request.headers.get('x-forwarded-host') ?? request.headers.get('host') ?? '';
  const policy = contentSecurityPolicy(nonce, process.env.API_PUBLIC_URL ?? '', host);
  const headers = new Headers(request.headers);
  headers.set('content-security-policy', policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set('content-security-policy', policy);
  return response;
}

export const config = { matcher: '/((?!_next/static|_next/image|favicon.ico).*)' };
