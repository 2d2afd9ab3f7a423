// Display helpers for the admin page.

/** `+14155550142` → `+1•••••••42`: enough to recognise a number, not to dial it. */
export function maskPhone(phone: string | null | undefined): string {
  if (!phone) return '—';
  if (phone.length <= 5) return '•'.repeat(phone.length);
  return `${phone.slice(0, 2)}${'•'.repeat(phone.length - 4)}${phone.slice(-2)}`;
}

export function formatTime(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return '—';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

const E164 = /\+[1-9]\d{6,14}/g;

/** Every E.164 number inside a text (JSON of payloads and step inputs) masked. */
export function maskPhonesIn(text: string): string {
  return text.replace(E164, (phone) => maskPhone(phone));
}
