// Webhook tokens: from WEBHOOK_TOKENS (`token` or `name=token`, several at once for rotation),
// or, when none is configured, one strong token generated on first start and kept beside the
// database, so a newcomer's first start works without editing anything and never without auth.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DEFAULT_SENDER = 'default';

interface TokenEntry {
  sender: string;
  digest: Buffer;
}

export interface WebhookTokens {
  /** The sender name of the matching token, or null. Compares against every token in constant time. */
  senderFor(candidate: string | undefined): string | null;
  readonly count: number;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function createWebhookTokens(entries: readonly string[]): WebhookTokens {
  const tokens: TokenEntry[] = entries.map((entry) => {
    const eq = entry.indexOf('=');
    return eq > 0
      ? { sender: entry.slice(0, eq).trim(), digest: digest(entry.slice(eq + 1).trim()) }
      : { sender: DEFAULT_SENDER, digest: digest(entry.trim()) };
  });
  return {
    count: tokens.length,
    senderFor(candidate) {
      if (!candidate) return null;
      // Equal-length digests, and no early exit: timing says nothing about which token is close.
      const given = digest(candidate);
      let sender: string | null = null;
      for (const t of tokens) if (timingSafeEqual(given, t.digest) && sender === null) sender = t.sender;
      return sender;
    },
  };
}

export interface ResolvedTokens {
  entries: string[];
  /** Set when the token was generated or read from the file beside the database. */
  generatedFile: string | null;
  /** The token to print in the webhook URL, when aftercall manages it. */
  managedToken: string | null;
}

export function resolveWebhookTokens(configured: readonly string[], sqlitePath: string): ResolvedTokens {
  if (configured.length > 0) return { entries: [...configured], generatedFile: null, managedToken: null };
  const file = join(sqlitePath === ':memory:' ? './data' : dirname(sqlitePath), 'webhook-token');
  let token = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (!token) {
    token = randomBytes(24).toString('base64url');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { entries: [token], generatedFile: file, managedToken: token };
}
