export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Calls the API and returns its JSON answer; non-2xx answers throw an ApiError with the API's message. */
export async function apiRequest<T>(
  base: string,
  path: string,
  options: { method?: string; body?: unknown; token?: string | null } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, 'The API cannot be reached');
  }
  const text = await response.text();
  const json: unknown = text ? safeJson(text) : undefined;
  if (!response.ok)
    throw new ApiError(response.status, messageOf(json) ?? `${response.status} ${response.statusText}`);
  return json as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function messageOf(json: unknown): string | undefined {
  if (typeof json === 'string' && json) return json;
  if (json && typeof json === 'object' && 'message' in json && typeof json.message === 'string')
    return json.message;
  return undefined;
}
