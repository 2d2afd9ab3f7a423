// What connectors read from a vendor answer's headers: Retry-After, whatever the SDK's casing.

/** Header lookup that ignores case (SDKs differ in how they case header names). */
export function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') {
    const value = (get as (n: string) => unknown).call(headers, name);
    if (typeof value === 'string') return value;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : value === undefined ? undefined : String(value);
  }
  return undefined;
}

/** Retry-After as seconds or an HTTP date → milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
