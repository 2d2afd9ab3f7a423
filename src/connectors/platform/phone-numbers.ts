// The sender of an SMS as the platform wants it: not the E.164 number a mapping names but the
// id of that number in the account (numeric on the classic API, a UUID on 2.0), found in the
// account's phone-number listing. The listing is kept for a while per connector, so a burst
// of SMS steps reads it once; a number not in it is looked up again at most once a TTL.
import { PermanentError, type StepContext } from '../connector.js';
import type { PlatformClient } from './client.js';

/** How long a listing is trusted: a number bought or released meanwhile is seen after this. */
export const PHONE_NUMBERS_TTL_MS = 5 * 60_000;

export interface PlatformNumber {
  id: string;
  phone_number: string;
  /** False when the listing says the number cannot send SMS; null when it does not say. */
  sms_capable: boolean | null;
}

interface Listing {
  at: number;
  numbers: Map<string, PlatformNumber>;
}

export interface PhoneNumberDirectory {
  /** The platform's number with this E.164 value; a PermanentError when there is none or it cannot send SMS. */
  smsSender(ctx: StepContext, e164: string): Promise<PlatformNumber>;
}

export function createPhoneNumberDirectory(client: PlatformClient, now: () => number = Date.now): PhoneNumberDirectory {
  let listing: Listing | null = null;
  let loading: Promise<Listing> | null = null;
  const load = (ctx: StepContext): Promise<Listing> => {
    // Steps asking at once share one listing request.
    loading ??= readListing(client, ctx)
      .then((numbers) => (listing = { at: now(), numbers }))
      .finally(() => (loading = null));
    return loading;
  };
  return {
    async smsSender(ctx, e164) {
      let current = listing && now() - listing.at < PHONE_NUMBERS_TTL_MS ? listing : await load(ctx);
      let found = current.numbers.get(e164);
      // A number missing from a listing older than a few seconds may be new: read once more.
      if (!found && now() - current.at > 5_000) {
        current = await load(ctx);
        found = current.numbers.get(e164);
      }
      if (!found) {
        throw withSummary(
          new PermanentError(`${client.title} (send SMS): From number not found: ${e164} is not one of the account's phone numbers (${current.numbers.size} listed)`),
          `${client.title} (send SMS): From number not found`,
        );
      }
      if (found.sms_capable === false) {
        throw withSummary(new PermanentError(`${client.title} (send SMS): Phone number is not SMS-capable: ${e164}`), `${client.title} (send SMS): Phone number is not SMS-capable`);
      }
      return found;
    },
  };
}

/** Log lines say what failed without the number itself. */
function withSummary(error: PermanentError, summary: string): PermanentError {
  error.summary = summary;
  return error;
}

/**
 * Classic: `GET /api/user/phone-numbers/all` → `{data: [{id, phone_number, sms_capable, …}]}`
 * (the `/phone-numbers` listing without /all hides numbers that cannot send, which would turn
 * "not SMS-capable" into "not found"). 2.0: `GET /api/v1/phone-numbers` → `{data: [...]}`.
 */
async function readListing(client: PlatformClient, ctx: StepContext): Promise<Map<string, PlatformNumber>> {
  const answer = await client.request<unknown>(ctx, 'list phone numbers', {
    method: 'GET',
    path: client.api === 'classic' ? '/user/phone-numbers/all' : '/phone-numbers?limit=200',
  });
  const rows = Array.isArray(answer) ? answer : (answer as { data?: unknown } | null)?.data;
  if (!Array.isArray(rows)) throw new PermanentError(`${client.title} (list phone numbers): unexpected answer: no list of phone numbers`);
  const numbers = new Map<string, PlatformNumber>();
  for (const row of rows as Array<Record<string, unknown>>) {
    const phone = row.phone_number ?? row.number ?? row.e164;
    if ((typeof row.id !== 'number' && typeof row.id !== 'string') || typeof phone !== 'string') continue;
    const capable = row.sms_capable;
    numbers.set(phone.replace(/[\s()-]/g, ''), { id: String(row.id), phone_number: phone, sms_capable: typeof capable === 'boolean' ? capable : null });
  }
  return numbers;
}
