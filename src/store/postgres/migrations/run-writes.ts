// PostgreSQL migration 6: aftercall_run_writes, the group commit of a claimed run's writes
// (src/store/postgres/run-writes.ts). Shipped: never edit it, replace it in a later migration.
import type { Migration } from '../../sql/migrate.js';

export const RUN_WRITES: Migration = {
  version: 6,
  name: "a claimed run's writes in batches: aftercall_run_writes",
  // The worker's writes of claimed runs (src/store/postgres/run-writes.ts), in call order, in
  // one statement and one commit: each lease-guarded as before (the run is ours while it is
  // running with our lease; FOR SHARE keeps a sweep from taking it mid-write), each in its own
  // subtransaction. A run whose write failed gets its later writes in the batch refused
  // (r_sqlstate NULL, r_message 'chain'), so none lands after a missing one.
  sql: `
    CREATE FUNCTION aftercall_run_writes(ops jsonb)
    RETURNS TABLE (r_ord integer, r_changed boolean, r_sqlstate text, r_message text)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      o jsonb;
      i integer;
      v_run bigint;
      v_owner text;
      v_at bigint;
      v_rows integer;
      v_broken bigint[] := '{}';
    BEGIN
      FOR o, i IN SELECT e.value, e.ord::integer FROM jsonb_array_elements(ops) WITH ORDINALITY AS e(value, ord) ORDER BY e.ord
      LOOP
        r_ord := i; r_changed := NULL; r_sqlstate := NULL; r_message := NULL;
        v_run := (o->>'run')::bigint;
        v_owner := o->>'owner';
        v_at := (o->>'at')::bigint;
        IF v_run = ANY (v_broken) THEN
          r_message := 'chain';
          RETURN NEXT;
          CONTINUE;
        END IF;
        BEGIN
          CASE o->>'op'
            WHEN 'start' THEN
              WITH owned AS (SELECT id FROM runs WHERE id = v_run AND lease_owner = v_owner AND status = 'running' FOR SHARE)
              INSERT INTO step_results (run_id, step_id, status, input, input_hash, attempts, started_at)
              SELECT id, o->>'step', 'started', o->>'input', o->>'inputHash', 1, v_at FROM owned
              ON CONFLICT (run_id, step_id) DO UPDATE SET status = 'started', input = EXCLUDED.input,
                input_hash = EXCLUDED.input_hash, attempts = step_results.attempts + 1,
                started_at = EXCLUDED.started_at, finished_at = NULL, error = NULL, evidence = NULL;
            WHEN 'finish' THEN
              WITH owned AS (SELECT id FROM runs WHERE id = v_run AND lease_owner = v_owner AND status = 'running' FOR SHARE)
              INSERT INTO step_results (run_id, step_id, status, input, output, error, attempts, started_at, finished_at, evidence)
              SELECT id, o->>'step', o->>'status', o->>'input', o->>'output', o->>'error', 0, v_at, v_at, o->>'evidence' FROM owned
              ON CONFLICT (run_id, step_id) DO UPDATE SET status = EXCLUDED.status, output = EXCLUDED.output,
                error = EXCLUDED.error, finished_at = EXCLUDED.finished_at, evidence = EXCLUDED.evidence,
                input = COALESCE(EXCLUDED.input, step_results.input);
            WHEN 'score' THEN
              UPDATE runs SET score = o->>'score' WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
            WHEN 'complete' THEN
              UPDATE runs SET status = 'succeeded', lease_owner = NULL, lease_until = NULL, next_run_at = NULL, updated_at = v_at,
                finished_at = v_at
              WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
            WHEN 'retry' THEN
              UPDATE runs SET status = 'retrying', attempts = attempts + 1, last_error = o->>'error',
                next_run_at = (o->>'nextRunAt')::bigint, lease_owner = NULL, lease_until = NULL, updated_at = v_at
              WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
            WHEN 'kill' THEN
              UPDATE runs SET status = o->>'status', attempts = attempts + 1, last_error = o->>'error', next_run_at = NULL,
                lease_owner = NULL, lease_until = NULL, updated_at = v_at, finished_at = v_at
              WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
            WHEN 'release' THEN
              UPDATE runs SET status = CASE WHEN attempts > 0 THEN 'retrying' ELSE 'pending' END, lease_owner = NULL,
                lease_until = NULL, next_run_at = COALESCE((o->>'notBefore')::bigint, next_run_at)
              WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
          END CASE;
          GET DIAGNOSTICS v_rows = ROW_COUNT;
          r_changed := v_rows = 1;
        EXCEPTION WHEN OTHERS THEN
          GET STACKED DIAGNOSTICS r_sqlstate = RETURNED_SQLSTATE, r_message = MESSAGE_TEXT;
          v_broken := v_broken || v_run;
        END;
        RETURN NEXT;
      END LOOP;
    END
    $fn$;
  `,
};
