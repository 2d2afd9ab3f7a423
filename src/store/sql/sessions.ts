// The Runs page's sessions, and the heartbeat /readyz commits.
import { sql } from './query.js';
import { get, run, type Work } from './work.js';

export function* startAdminSession(id: string, expiresAt: number, now: number): Work<void> {
  yield* run(sql`DELETE FROM admin_sessions WHERE expires_at <= ${now}`);
  yield* run(sql`INSERT INTO admin_sessions (id, expires_at) VALUES (${id}, ${expiresAt})`);
}

export function* adminSessionActive(id: string, now: number): Work<boolean> {
  return (yield* get(sql`SELECT 1 AS found FROM admin_sessions WHERE id = ${id} AND expires_at > ${now}`)) !== undefined;
}

export function* endAdminSession(id: string): Work<void> {
  yield* run(sql`DELETE FROM admin_sessions WHERE id = ${id}`);
}

export function* heartbeat(at: number): Work<void> {
  yield* run(sql`INSERT INTO heartbeat (id, beat_at) VALUES (1, ${at}) ON CONFLICT (id) DO UPDATE SET beat_at = EXCLUDED.beat_at`);
}
