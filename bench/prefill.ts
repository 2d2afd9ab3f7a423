// Builds a SQLite file holding N stored calls for the volume figure, through the store's own
// API (src/store/sqlite/sqlite-store.ts), so rows, indexes and JSON look like the service's:
// each call is accepted (call, revision, receipt with its raw body, one run), claimed, its one
// `log` step recorded started and succeeded, and the run completed. Writes go through the
// store's group commit in batches (one transaction per batch). The file is written with
// `synchronous = OFF` (the fill only; the service opens it with its own FULL setting) and
// checkpointed, so the service starts on a plain WAL-mode file.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { serializeCall } from '../src/payload/content-hash.js';
import { parsePayload } from '../src/payload/parse-payload.js';
import { openSqliteStore, SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AcceptInput } from '../src/store/store.js';
import type { BenchPayload } from './payload.js';

export interface PrefillOptions {
  path: string;
  calls: number;
  payload: BenchPayload;
  /** First call id; ids run from here up (keep them apart from the ids the load sends). */
  firstId: number;
  sender: string;
  mappingName: string;
  mappingHash: string;
  stepId: string;
  batch?: number;
  /** Stops the fill early (Ctrl-C). */
  aborted?: () => boolean;
  onProgress?: (done: number) => void;
}

export interface PrefillResult {
  calls: number;
  seconds: number;
  bytes: number;
}

/** sha256 of a mapping file's bytes, first 16 hex digits: the hash a loaded mapping carries. */
export function mappingFileHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export async function prefillSqlite(options: PrefillOptions): Promise<PrefillResult> {
  const started = Date.now();
  // Creates the file and applies the migrations exactly as the service would.
  await openSqliteStore({ path: options.path }).close();

  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('foreign_keys = ON');
  db.pragma('cache_size = -262144'); // 256 MB for the fill only
  const store = new SqliteStore(db);
  try {
    const template = parsePayload(JSON.parse(options.payload.body(options.firstId)), 'strict');
    if (!template.ok) throw new Error(`prefill: the bench payload does not validate: ${JSON.stringify(template.issues)}`);
    const batch = options.batch ?? 2_000;
    const owner = 'bench-prefill';
    // Calls received one second apart, the last one an hour ago: a store that has been in use.
    const firstAt = Date.now() - 3_600_000 - options.calls * 1_000;
    for (let done = 0; done < options.calls; ) {
      if (options.aborted?.()) throw new Error('prefill stopped');
      const count = Math.min(batch, options.calls - done);
      const accepts: Array<Promise<unknown>> = [];
      let lastAt = firstAt;
      for (let i = 0; i < count; i++) {
        const n = done + i;
        const id = options.firstId + n;
        const call = { ...template.call, id };
        const serialized = serializeCall(call);
        lastAt = firstAt + n * 1_000;
        const input: AcceptInput = {
          requestId: `prefill-${n}`,
          sender: options.sender,
          receivedAt: lastAt,
          rawBody: Buffer.from(options.payload.body(id)),
          call,
          contentHash: serialized.hash,
          callJson: serialized.json,
          isTest: false,
          runs: [{ mappingName: options.mappingName, mappingHash: options.mappingHash }],
        };
        accepts.push(store.acceptDelivery(input));
      }
      await Promise.all(accepts);
      const claimAt = lastAt + 50;
      const claimed = await store.claimRuns(owner, count, claimAt, 60_000);
      if (claimed.length !== count) throw new Error(`prefill: claimed ${claimed.length} of ${count} runs`);
      const finishes: Array<Promise<boolean>> = [];
      for (const run of claimed) {
        const input = { level: 'debug', message: `call ${run.call.id} (${run.call.variant}) finished after ${run.call.duration} s` };
        const inputHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
        finishes.push(store.startStep(run.id, owner, options.stepId, input, inputHash, claimAt));
        finishes.push(store.finishStep(run.id, owner, options.stepId, { status: 'succeeded', output: null }, claimAt + 1));
        finishes.push(store.completeRun(run.id, owner, claimAt + 2));
      }
      const results = await Promise.all(finishes);
      if (results.some((ok) => !ok)) throw new Error('prefill: a step or run was not recorded');
      done += count;
      options.onProgress?.(done);
    }
  } finally {
    await store.close();
  }
  const check = new Database(options.path);
  try {
    check.pragma('wal_checkpoint(TRUNCATE)');
    const pages = check.pragma('page_count', { simple: true }) as number;
    const pageSize = check.pragma('page_size', { simple: true }) as number;
    return { calls: options.calls, seconds: (Date.now() - started) / 1000, bytes: pages * pageSize };
  } finally {
    check.close();
  }
}
