// One send that cannot be taken back (an email, an SMS) with a pooled client: a shutdown stops
// the step only before the send leaves (sendContext).
import { ClientPool, withPooledClient, type Pooled } from './client-pool.js';
import { PermanentError, TransientError, type StepContext } from './connector.js';
import { sendContext } from './deadline.js';

/**
 * Runs `send` with a client lent by `pool` until the step's deadline. `classify` makes the step's
 * error: of a failed `send` while the client is still this step's (what it last read is its
 * own), of anything else (the deadline, a client not made) with the client lent, if any.
 */
export async function sendWithPooledClient<C extends Pooled, T>(
  ctx: StepContext,
  pool: ClientPool<C>,
  key: string,
  create: () => C,
  send: (client: C) => Promise<T>,
  classify: (error: unknown, client: C | undefined) => Error,
): Promise<T> {
  const sendCtx = sendContext(ctx);
  let lent: C | undefined;
  try {
    return await withPooledClient(sendCtx, pool, key, create, async (client) => {
      lent = client;
      try {
        return await send(client);
      } catch (error) {
        throw classify(error, client);
      }
    });
  } catch (error) {
    if (error instanceof TransientError || error instanceof PermanentError) throw error;
    throw classify(error, lent);
  }
}

/**
 * The sends of a connector whose SDK is imported on first use (`load`): each with a client of the
 * connector's pool, made by `create` from the SDK for the step that needs one (sendWithPooledClient).
 */
export function pooledSends<S, C extends Pooled>(load: () => Promise<S>, create: (sdk: S, ctx: StepContext) => C) {
  const pool = new ClientPool<C>();
  return {
    async send<T>(ctx: StepContext, key: string, send: (client: C) => Promise<T>, classify: (error: unknown, client: C | undefined) => Error): Promise<T> {
      const sdk = await load();
      return sendWithPooledClient(ctx, pool, key, () => create(sdk, ctx), send, classify);
    },
    close: () => pool.close(),
  };
}
