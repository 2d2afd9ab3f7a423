// aftercall_worker_writes: the worker's one queue to the server (src/store/postgres/run-writes.ts).
import type { Routine } from '../routines.js';

export const WORKER_WRITES: Routine = {
  name: 'aftercall_worker_writes',
  // A claimed run's writes, lease renewals and the next claim of one moment in one statement and
  // one commit, in call order: each write lease-guarded (the run is ours while it is running with
  // our lease; FOR SHARE keeps a sweep from taking it mid-write) and in its own subtransaction. A
  // run whose write failed gets its later writes in the batch refused (r_sqlstate NULL, r_message
  // 'chain'), so none lands after a missing one. 'claim' returns its runs as JSON in r_claimed.
  sql: `
    CREATE OR REPLACE FUNCTION aftercall_worker_writes(ops jsonb)
    RETURNS TABLE (r_ord integer, r_changed boolean, r_sqlstate text, r_message text, r_claimed json)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      o jsonb;
      i integer;
      v_run bigint;
      v_owner text;
      v_at bigint;
      v_rows integer;
      v_broken bigint[] := '{}';
      v_op text;
      v_held bigint[];
    BEGIN
      FOR o, i IN SELECT e.value, e.ord::integer FROM jsonb_array_elements(ops) WITH ORDINALITY AS e(value, ord) ORDER BY e.ord
      LOOP
        r_ord := i; r_changed := NULL; r_sqlstate := NULL; r_message := NULL; r_claimed := NULL;
        v_op := o->>'op';
        v_run := (o->>'run')::bigint;
        v_owner := o->>'owner';
        v_at := (o->>'at')::bigint;
        IF v_op = 'claim' THEN
          BEGIN
            v_held := ARRAY(SELECT jsonb_array_elements_text(o->'held')::bigint);
            -- As claimRuns did on its own: due runs oldest first, SKIP LOCKED past other
            -- instances' claims, a run waiting while an earlier revision's run of its call and
            -- mapping is unfinished; with their step records, and the call's JSON (as json, so
            -- it arrives parsed) only for runs whose call the caller does not hold.
            WITH due AS (
              SELECT r.id FROM runs r
              WHERE r.status IN ('pending', 'retrying') AND r.next_run_at <= v_at
                AND NOT EXISTS (
                  SELECT 1 FROM runs e
                  WHERE e.call_row_id = r.call_row_id AND e.mapping_name = r.mapping_name
                    AND e.revision < r.revision AND e.status IN ('pending', 'running', 'retrying'))
              ORDER BY r.next_run_at, r.id
              LIMIT (o->>'limit')::integer
              FOR UPDATE OF r SKIP LOCKED
            ), claimed AS (
              UPDATE runs r SET status = 'running', lease_owner = v_owner, lease_until = (o->>'until')::bigint, updated_at = v_at
              FROM due, revisions v
              WHERE r.id = due.id AND v.id = r.revision_id AND r.status IN ('pending', 'retrying')
              RETURNING r.id, r.mapping_name, r.mapping_hash, r.attempts, r.is_test, r.call_row_id, r.revision, r.next_run_at,
                CASE WHEN r.id = ANY (v_held) THEN NULL ELSE v.call_json::json END AS call
            )
            SELECT json_agg(x ORDER BY x.next_run_at, x.id) INTO r_claimed FROM (
              SELECT c.*, (SELECT json_agg(s ORDER BY s.started_at NULLS FIRST, s.step_id COLLATE "C")
                           FROM step_results s WHERE s.run_id = c.id) AS steps
              FROM claimed c
            ) x;
            r_changed := true;
          EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS r_sqlstate = RETURNED_SQLSTATE, r_message = MESSAGE_TEXT;
          END;
          RETURN NEXT;
          CONTINUE;
        END IF;
        -- A lease renewal is outside the chain: neither refused after a failed write nor failing later ones.
        IF v_run = ANY (v_broken) AND v_op <> 'renew' THEN
          r_message := 'chain';
          RETURN NEXT;
          CONTINUE;
        END IF;
        BEGIN
          CASE v_op
            WHEN 'renew' THEN
              UPDATE runs SET lease_until = (o->>'until')::bigint WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
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
          IF v_op <> 'renew' THEN
            v_broken := v_broken || v_run;
          END IF;
        END;
        RETURN NEXT;
      END LOOP;
    END
    $fn$;
  `,
};
