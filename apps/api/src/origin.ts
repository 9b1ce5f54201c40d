/**
 * Whether a browser page from `origin` may use the API: the configured dashboard origin, or the API's own
 * origin (the Origin's host equals the request's Host, as when dashboard and API share the ALB's host).
 * A request without an Origin does not come from a browser page, so there is nothing to check.
 */
export function originAllowed(
  origin: string | undefined,
  dashboardOrigin: string | undefined,
  host: string | undefined,
): boolean {
  if (origin === undefined) return true;
  if (dashboardOrigin !== undefined && origin === dashboardOrigin) return true;
  if (!host || !URL.canParse(origin)) return false;
  const url = new URL(origin);
  return /^https?:$/.test(url.protocol) && url.host === host.toLowerCase();
}
