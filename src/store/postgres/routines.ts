// The PostgreSQL store's functions, each written once as it is now (CREATE OR REPLACE), applied
// after the migrations in their transaction whenever its text differs from the one applied last
// (schema_routines keeps a digest per function). A function whose arguments or result change
// gets a new name instead: instances of the previous version keep calling the old one during a
// rolling upgrade, and a later migration drops it.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ACCEPT_DELIVERIES } from './routines/accept-deliveries.js';
import { WORKER_WRITES } from './routines/worker-writes.js';

export interface Routine {
  name: string;
  /** CREATE OR REPLACE FUNCTION … */
  sql: string;
}

export const ROUTINES: readonly Routine[] = [ACCEPT_DELIVERIES, WORKER_WRITES];

export const routineDigest = (routine: Routine) => createHash('sha256').update(routine.sql).digest('hex');

/** Inside the migrations' transaction and lock: (re)creates each routine whose text changed. */
export async function applyRoutines(client: pg.PoolClient): Promise<void> {
  const applied = new Map(
    (await client.query<{ name: string; digest: string }>('SELECT name, digest FROM schema_routines')).rows.map((r) => [r.name, r.digest]),
  );
  for (const routine of ROUTINES) {
    const digest = routineDigest(routine);
    if (applied.get(routine.name) === digest) continue;
    await client.query(routine.sql);
    await client.query(
      `INSERT INTO schema_routines (name, digest, applied_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET digest = excluded.digest, applied_at = excluded.applied_at`,
      [routine.name, digest, Date.now()],
    );
  }
}
