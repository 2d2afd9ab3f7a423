// aftercall_accept_deliveries: the group commit of deliveries (src/store/postgres/batched-accept.ts),
// one statement, one commit and one WAL flush for all of a moment's deliveries.
import type { Routine } from '../routines.js';

export const ACCEPT_DELIVERIES: Routine = {
  name: 'aftercall_accept_deliveries',
  // Each delivery in its own subtransaction, so one failing delivery (its SQLSTATE is returned)
  // leaves the others; in (sender, call key) order, so concurrent batches on other instances lock
  // calls rows in the same order and cannot deadlock; one after the other, so deliveries of one
  // call in one batch see each other as sequential ones would. The bodies and calls' JSON come
  // each as ONE bytea, the deliveries' bytes one after the other, found by the offset and length
  // in the delivery's JSON: a bytea parameter travels in binary as it is, where an array would
  // travel as a literal the client makes and the server parses again. A delivery without headers
  // or search words (an instance of an older version) writes NULL headers and an empty vector.
  sql: `
    CREATE OR REPLACE FUNCTION aftercall_accept_deliveries(deliveries jsonb, call_jsons bytea, raw_bodies bytea)
    RETURNS TABLE (r_ord integer, r_outcome text, r_receipt_id bigint, r_revision integer,
                   r_run_names text[], r_run_ids bigint[], r_sqlstate text, r_message text)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      d jsonb;
      i integer;
      v_at bigint;
      v_call_id bigint;
      v_latest integer;
      v_known_id bigint;
      v_known_revision integer;
      v_revision_id bigint;
      v_calls jsonb;
      v_results jsonb;
    BEGIN
      -- Deliveries of distinct calls (nearly every batch) are written by a few statements for the
      -- whole batch. Any error there rolls them all back and the batch goes through the loop below,
      -- which finds the delivery at fault; so does a batch holding one call twice.
      IF NOT EXISTS (SELECT FROM jsonb_array_elements(deliveries) e GROUP BY e->>'sender', e->>'key' HAVING count(*) > 1) THEN
        BEGIN
          -- The upsert locks every call's row, in key order, until COMMIT.
          WITH d AS (
            SELECT e.ord::integer AS ord, e.value->>'sender' AS sender, e.value->>'key' AS key, (e.value->>'at')::bigint AS at
            FROM jsonb_array_elements(deliveries) WITH ORDINALITY AS e(value, ord)
          ), upserted AS (
            INSERT INTO calls (sender, call_key, latest_revision, created_at, updated_at)
            SELECT d.sender, d.key, 0, d.at, d.at FROM d ORDER BY d.sender COLLATE "C", d.key COLLATE "C"
            ON CONFLICT (sender, call_key) DO UPDATE SET updated_at = EXCLUDED.updated_at
            RETURNING id, sender, call_key, latest_revision
          )
          SELECT jsonb_agg(jsonb_build_object('ord', d.ord, 'call', u.id, 'latest', u.latest_revision)) INTO v_calls
          FROM d JOIN upserted u ON u.sender = d.sender AND u.call_key = d.key;
          -- A new statement: its snapshot sees what other instances committed for these calls
          -- before their rows' locks were released to the upsert above.
          WITH d AS (
            SELECT c.ord, c.call, c.latest, deliveries->(c.ord - 1) AS v
            FROM jsonb_to_recordset(v_calls) AS c(ord integer, call bigint, latest integer)
          ), known AS (
            -- LIMIT keeps this an index lookup per delivery: joined, the planner hashes all revisions.
            SELECT d.ord, r.id, r.revision FROM d CROSS JOIN LATERAL (
              SELECT id, revision FROM revisions WHERE call_row_id = d.call AND content_hash = d.v->>'hash' LIMIT 1
            ) r
          ), fresh AS (
            SELECT d.* FROM d WHERE NOT EXISTS (SELECT FROM known k WHERE k.ord = d.ord)
          ), added_revisions AS (
            INSERT INTO revisions (call_row_id, revision, content_hash, call_json, variant, call_status, is_test, created_at,
              customer_phone, search)
            SELECT f.call, f.latest + 1, f.v->>'hash',
              convert_from(substring(call_jsons FROM (f.v->>'callAt')::integer + 1 FOR (f.v->>'callBytes')::integer), 'UTF8'),
              f.v->>'variant', f.v->>'status', (f.v->>'isTest')::boolean, (f.v->>'at')::bigint, f.v->>'phone',
              to_tsvector('simple', COALESCE(f.v->>'search', ''))
            FROM fresh f ORDER BY f.v->>'sender' COLLATE "C", f.v->>'key' COLLATE "C"
            RETURNING id, call_row_id, revision
          ), added_runs AS (
            INSERT INTO runs (revision_id, call_row_id, revision, mapping_name, mapping_hash, status, is_test, next_run_at,
              created_at, updated_at, last_error, finished_at)
            SELECT a.id, a.call_row_id, a.revision, p.name, p.hash,
              CASE WHEN p.skip IS NULL THEN 'pending' ELSE 'skipped' END, (f.v->>'isTest')::boolean,
              CASE WHEN p.skip IS NULL THEN (f.v->>'at')::bigint END, (f.v->>'at')::bigint, (f.v->>'at')::bigint, p.skip,
              CASE WHEN p.skip IS NOT NULL THEN (f.v->>'at')::bigint END
            FROM added_revisions a JOIN fresh f ON f.call = a.call_row_id
            CROSS JOIN LATERAL ROWS FROM (jsonb_to_recordset(f.v->'runs') AS (name text, hash text, skip text)) WITH ORDINALITY AS p(name, hash, skip, ord)
            ORDER BY f.v->>'sender' COLLATE "C", f.v->>'key' COLLATE "C", p.ord
            RETURNING id, revision_id, mapping_name
          ), outcomes AS (
            SELECT d.ord, d.v, d.call, COALESCE(k.id, a.id) AS revision_id, COALESCE(k.revision, a.revision) AS revision,
              CASE WHEN k.id IS NULL THEN 'accepted' ELSE 'duplicate' END AS outcome
            FROM d LEFT JOIN known k ON k.ord = d.ord LEFT JOIN added_revisions a ON a.call_row_id = d.call AND k.id IS NULL
          ), added_receipts AS (
            INSERT INTO receipts (request_id, sender, received_at, outcome, raw_body, call_key, revision_id, headers)
            SELECT o.v->>'requestId', o.v->>'sender', (o.v->>'at')::bigint, o.outcome,
              CASE WHEN o.outcome = 'accepted'
                THEN substring(raw_bodies FROM (o.v->>'bodyAt')::integer + 1 FOR (o.v->>'bodyBytes')::integer) END,
              o.v->>'key', o.revision_id, o.v->>'headers'
            FROM outcomes o ORDER BY o.v->>'sender' COLLATE "C", o.v->>'key' COLLATE "C"
            RETURNING id, revision_id
          )
          SELECT jsonb_agg(jsonb_build_object('ord', o.ord, 'outcome', o.outcome, 'receipt', rc.id, 'revision', o.revision,
              'call', o.call, 'names', runs.names, 'ids', runs.ids))
            INTO v_results
          FROM outcomes o JOIN added_receipts rc ON rc.revision_id = o.revision_id
          LEFT JOIN LATERAL (
            SELECT array_agg(r.mapping_name) AS names, array_agg(r.id) AS ids FROM added_runs r
            WHERE r.revision_id = o.revision_id AND o.outcome = 'accepted'
          ) runs ON true;
          UPDATE calls SET latest_revision = r.revision
          FROM jsonb_to_recordset(v_results) AS r(outcome text, revision integer, call bigint)
          WHERE r.outcome = 'accepted' AND calls.id = r.call;
        EXCEPTION WHEN OTHERS THEN
          v_results := NULL;
        END;
        IF v_results IS NOT NULL THEN
          RETURN QUERY SELECT r.ord, r.outcome, r.receipt, r.revision, r.names, r.ids, NULL::text, NULL::text
            FROM jsonb_to_recordset(v_results) AS r(ord integer, outcome text, receipt bigint, revision integer, names text[], ids bigint[]);
          RETURN;
        END IF;
      END IF;
      FOR d, i IN
        SELECT e.value, e.ord::integer FROM jsonb_array_elements(deliveries) WITH ORDINALITY AS e(value, ord)
        ORDER BY e.value->>'sender' COLLATE "C", e.value->>'key' COLLATE "C", e.ord
      LOOP
        r_ord := i;
        r_outcome := NULL; r_receipt_id := NULL; r_revision := NULL; r_run_names := NULL; r_run_ids := NULL;
        r_sqlstate := NULL; r_message := NULL;
        BEGIN
          v_at := (d->>'at')::bigint;
          -- The upsert locks the call's row until COMMIT, also when it only conflicts.
          INSERT INTO calls (sender, call_key, latest_revision, created_at, updated_at)
          VALUES (d->>'sender', d->>'key', 0, v_at, v_at)
          ON CONFLICT (sender, call_key) DO UPDATE SET updated_at = EXCLUDED.updated_at
          RETURNING id, latest_revision INTO v_call_id, v_latest;
          SELECT id, revision INTO v_known_id, v_known_revision FROM revisions
          WHERE call_row_id = v_call_id AND content_hash = d->>'hash';
          IF FOUND THEN
            INSERT INTO receipts (request_id, sender, received_at, outcome, call_key, revision_id, headers)
            VALUES (d->>'requestId', d->>'sender', v_at, 'duplicate', d->>'key', v_known_id, d->>'headers')
            RETURNING id INTO r_receipt_id;
            r_outcome := 'duplicate';
            r_revision := v_known_revision;
          ELSE
            r_revision := v_latest + 1;
            INSERT INTO revisions (call_row_id, revision, content_hash, call_json, variant, call_status, is_test, created_at,
              customer_phone, search)
            VALUES (v_call_id, r_revision, d->>'hash',
              convert_from(substring(call_jsons FROM (d->>'callAt')::integer + 1 FOR (d->>'callBytes')::integer), 'UTF8'),
              d->>'variant', d->>'status', (d->>'isTest')::boolean, v_at, d->>'phone', to_tsvector('simple', COALESCE(d->>'search', '')))
            RETURNING id INTO v_revision_id;
            UPDATE calls SET latest_revision = r_revision WHERE id = v_call_id;
            WITH planned AS (
              SELECT m.name, m.hash, m.skip, m.ord FROM ROWS FROM (jsonb_to_recordset(d->'runs') AS (name text, hash text, skip text))
                WITH ORDINALITY AS m(name, hash, skip, ord)
            ), added AS (
              INSERT INTO runs (revision_id, call_row_id, revision, mapping_name, mapping_hash, status, is_test, next_run_at,
                created_at, updated_at, last_error, finished_at)
              SELECT v_revision_id, v_call_id, r_revision, p.name, p.hash,
                CASE WHEN p.skip IS NULL THEN 'pending' ELSE 'skipped' END, (d->>'isTest')::boolean,
                CASE WHEN p.skip IS NULL THEN v_at END, v_at, v_at, p.skip, CASE WHEN p.skip IS NOT NULL THEN v_at END
              FROM planned p ORDER BY p.ord
              RETURNING id, mapping_name
            )
            SELECT array_agg(mapping_name), array_agg(id) INTO r_run_names, r_run_ids FROM added;
            INSERT INTO receipts (request_id, sender, received_at, outcome, raw_body, call_key, revision_id, headers)
            VALUES (d->>'requestId', d->>'sender', v_at, 'accepted',
              substring(raw_bodies FROM (d->>'bodyAt')::integer + 1 FOR (d->>'bodyBytes')::integer), d->>'key', v_revision_id,
              d->>'headers')
            RETURNING id INTO r_receipt_id;
            r_outcome := 'accepted';
          END IF;
        EXCEPTION WHEN OTHERS THEN
          GET STACKED DIAGNOSTICS r_sqlstate = RETURNED_SQLSTATE, r_message = MESSAGE_TEXT;
          r_outcome := NULL; r_receipt_id := NULL; r_revision := NULL; r_run_names := NULL; r_run_ids := NULL;
        END;
        RETURN NEXT;
      END LOOP;
    END
    $fn$;
  `,
};
