// Liveness of the dashboard server itself (container health check and Kubernetes probes).
export const dynamic = 'force-dynamic';

export function GET(): Response {
  return Response.json({ status: 'ok' });
}
