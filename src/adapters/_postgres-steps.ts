/**
 * The intent-level steps of the PostgreSQL token store as PL/pgSQL functions (internal), created by the schema
 * migration (version 3; version 4 replaced them with cheaper bodies of the same signatures: the counter hits and
 * event inserts inline, no `RETURN QUERY`; version 5 added `ht_verify`, the verify step as one scalar `text[]`).
 * Each step is one `SELECT` of one function: one round trip, and one transaction, so its state change and its
 * events commit together or not at all. The events are stored exactly as `appendEvent` stores them: `body` is
 * the event's `JSON.stringify` text (built in SQL, key for key, for the verify step, whose token only the
 * database knows), with `beneficiary_id`, `event_id` and `at_ms` beside it.
 */
import { attemptUpdate, counterHit, counterTakeBack, saveUpsert } from "./_postgres-sql.js";

/** A dollar-quote tag that does not occur in `text` (a schema name may hold `$`). */
export function dollarTag(text: string): string {
  let tag = "$ht$";
  for (let i = 1; text.includes(tag); i++) tag = `$ht${i}$`;
  return tag;
}

/** The insert of events given as a JSON array of their JSON texts (`bodies`), in order (no `;`). */
function appendBodies(s: string, bodies: string): string {
  return `INSERT INTO ${s}.events (beneficiary_id, event_id, at_ms, body)
  SELECT e.j->>'beneficiaryId', e.j->>'id', (e.j->>'atMs')::bigint, e.body
  FROM (SELECT b.body, b.body::json AS j, b.n
    FROM json_array_elements_text(${bodies}) WITH ORDINALITY AS b(body, n)) AS e
  ORDER BY e.n`;
}

/** The JSON text (a quoted, escaped string) of a SQL text expression. */
function json(expr: string): string {
  return `to_json((${expr})::text)::text`;
}

/** The characters `ht_key_part` (and the library's `keyPart`) leave as they are. */
const UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-";

/** `ht_key_part(id)` of an expression, without the call when the id has only unreserved characters. */
function keyPartOf(s: string, id: string): string {
  return `CASE WHEN ltrim(${id}, '${UNRESERVED}') = '' THEN ${id} ELSE ${s}.ht_key_part(${id}) END`;
}

/** The result fields of the verify step, in order: the outcome, the token as the attempt left it, the provider count. */
const VERIFY_RESULT = [
  ["r_outcome", "text"],
  ["r_token_id", "text"],
  ["r_provider_id", "text"],
  ["r_beneficiary_id", "text"],
  ["r_code_hash", "text"],
  ["r_issued_at_ms", "bigint"],
  ["r_expires_at_ms", "bigint"],
  ["r_max_attempts", "integer"],
  ["r_attempts", "integer"],
  ["r_status", "text"],
  ["r_channel", "text"],
  ["r_provider_failures", "bigint"],
] as const;

/** The parameters of the verify step's functions (both take the same), in order. */
const VERIFY_PARAMS = [
  ["p_guide", "text"],
  ["p_provider", "text"],
  ["p_hash", "text"],
  ["p_now", "bigint"],
  ["p_failure_window", "bigint"],
  ["p_provider_key", "text"],
  ["p_provider_window", "bigint"],
  ["p_event_id", "text"],
  ["p_locked_event_id", "text"],
] as const;

/** The parameter list of the verify step's functions, five to a line. */
const VERIFY_SIGNATURE = [VERIFY_PARAMS.slice(0, 5), VERIFY_PARAMS.slice(5)]
  .map((line) => line.map(([n, t]) => `${n} ${t}`).join(", "))
  .join(",\n  ");

/**
 * Version 5's `ht_verify`: the attempt, the failure counter, the lock and the verification's events, its result
 * as one `text[]` (NULL when the guide has no token), a scalar that costs the server less to plan and return
 * than a set of 12 columns.
 */
function verifyFunction(s: string, q: string): string {
  const keyPart = (id: string) => keyPartOf(s, id);
  const done = `RETURN ARRAY[${VERIFY_RESULT.map(([n]) => n).join(", ")}]::text[];`;
  const locals = VERIFY_RESULT.map(([n, t]) => `\n  ${n} ${t};`).join("");
  return `-- ht_verify (version 5): the attempt, the failure counter, the lock and the verification's events, the result
-- as one text[] (NULL: no token) in the order of ht_verify_step's columns. Every write is inline (no nested
-- function call, and ht_key_part only for an id with a reserved character), and each outcome takes the shortest
-- way through.
CREATE OR REPLACE FUNCTION ${s}.ht_verify(
  ${VERIFY_SIGNATURE})
RETURNS text[]
LANGUAGE plpgsql AS ${q}
DECLARE${locals}
  v_left integer;
  v_count bigint;
  v_reset bigint;
  v_base text;
BEGIN
  ${attemptUpdate(s, { guide: "p_guide", provider: "p_provider", hash: "p_hash", now: "p_now" })}
  RETURNING t.last_outcome, t.token_id, t.provider_id, t.beneficiary_id, t.code_hash, t.issued_at_ms,
    t.expires_at_ms, t.max_attempts, t.attempts, t.status, t.channel
  INTO r_outcome, r_token_id, r_provider_id, r_beneficiary_id, r_code_hash, r_issued_at_ms, r_expires_at_ms,
    r_max_attempts, r_attempts, r_status, r_channel;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  -- The fields of verifyStepEvents, in its key order, after the id.
  v_base := ',"atMs":' || p_now || ',"beneficiaryId":' || ${json("r_beneficiary_id")}
    || ',"guideId":' || ${json("p_guide")} || ',"providerId":' || ${json("p_provider")}
    || ',"tokenId":' || ${json("r_token_id")} || ',"channel":' || ${json("r_channel")};
  IF r_outcome = 'mismatch' THEN
    ${counterHit(s, `'rl:bf:' || ${keyPart("r_beneficiary_id")}`, "p_failure_window", "p_now")}
    INTO v_count, v_reset;
  ELSIF r_outcome = 'wrong_provider' THEN
    ${counterHit(s, "p_provider_key", "p_provider_window", "p_now")}
    INTO r_provider_failures, v_reset;
  ELSE
    INSERT INTO ${s}.events (beneficiary_id, event_id, at_ms, body)
    VALUES (r_beneficiary_id, p_event_id, p_now, '{"id":' || ${json("p_event_id")} || v_base
      || CASE WHEN r_outcome = 'ok' THEN ',"type":"token.verified"}'
        ELSE ',"type":"token.rejected","reason":"' || r_outcome || '"}' END);
    ${done}
  END IF;
  v_left := GREATEST(0, r_max_attempts - r_attempts);
  INSERT INTO ${s}.events (beneficiary_id, event_id, at_ms, body)
  VALUES (r_beneficiary_id, p_event_id, p_now, '{"id":' || ${json("p_event_id")} || v_base
    || ',"type":"token.rejected","reason":"' || r_outcome || '","attemptsLeft":' || v_left
    || COALESCE(',"providerFailures":' || r_provider_failures, '') || '}');
  IF v_left = 0 THEN
    INSERT INTO ${s}.events (beneficiary_id, event_id, at_ms, body)
    VALUES (r_beneficiary_id, p_locked_event_id, p_now, '{"id":' || ${json("p_locked_event_id")} || v_base
      || ',"type":"token.locked","reason":"' || r_outcome || '"}');
  END IF;
  ${done}
END ${q};
`;
}

/**
 * Version 4's `ht_verify_step` (a one-row set: `SELECT * FROM`), kept for the instances of the previous release
 * during a rolling upgrade: since version 5 a wrapper that calls `ht_verify` and unpacks its array, so the step
 * has one body.
 */
function verifyStepWrapper(s: string, q: string): string {
  const columns = VERIFY_RESULT.map(([n, t]) => `${n} ${t}`).join(",\n  ");
  const unpack = VERIFY_RESULT.map(([n, t], i) => `${n} := v_r[${i + 1}]${t === "text" ? "" : `::${t}`};`);
  return `-- ht_verify_step (version 4; since version 5 a wrapper of ht_verify, which the library calls): the same step
-- as a one-row set, for the instances of the previous release.
CREATE OR REPLACE FUNCTION ${s}.ht_verify_step(
  ${VERIFY_SIGNATURE})
RETURNS TABLE (
  ${columns})
LANGUAGE plpgsql AS ${q}
DECLARE
  v_r text[];
BEGIN
  v_r := ${s}.ht_verify(
    ${VERIFY_PARAMS.map(([n]) => n).join(", ")});
  IF v_r IS NULL THEN
    RETURN;
  END IF;
  ${unpack.join("\n  ")}
  RETURN NEXT;
END ${q};
`;
}

/**
 * The `CREATE OR REPLACE FUNCTION`s of the steps, for the quoted schema `s`. Every function references its
 * tables schema-qualified, so it does not depend on the caller's `search_path`.
 */
export function postgresStepsSql(s: string): string {
  const q = dollarTag(s);
  return `-- Version 3: the intent-level steps, one function call each (one round trip, one transaction).
-- ht_key_part(id): the percent-encoding of an id as one part of a counter key, as the library's rateLimitKeys do.
CREATE OR REPLACE FUNCTION ${s}.ht_key_part(id text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS ${q}
DECLARE
  b bytea := convert_to(id, 'UTF8');
  r text := '';
  c integer;
BEGIN
  IF ltrim(id, '${UNRESERVED}') = '' THEN
    RETURN id; -- only unreserved characters: unchanged (and no byte loop)
  END IF;
  FOR i IN 0 .. length(b) - 1 LOOP
    c := get_byte(b, i);
    IF c BETWEEN 48 AND 57 OR c BETWEEN 65 AND 90 OR c BETWEEN 97 AND 122 OR c IN (45, 46, 95, 126) THEN
      r := r || chr(c);
    ELSE
      r := r || '%' || upper(lpad(to_hex(c), 2, '0'));
    END IF;
  END LOOP;
  RETURN r;
END ${q};

-- ht_hit / ht_take_back: increment and decrement of a fixed-window counter.
CREATE OR REPLACE FUNCTION ${s}.ht_hit(p_key text, p_window bigint, p_now bigint,
  OUT r_count bigint, OUT r_reset_at_ms bigint)
LANGUAGE plpgsql AS ${q}
BEGIN
  ${counterHit(s, "p_key", "p_window", "p_now")}
  INTO r_count, r_reset_at_ms;
END ${q};

CREATE OR REPLACE FUNCTION ${s}.ht_take_back(p_key text, p_now bigint) RETURNS void
LANGUAGE plpgsql AS ${q}
BEGIN
  ${counterTakeBack(s, "p_key", "p_now", false)};
END ${q};

-- ht_append(bodies): appends events given as a JSON array of their JSON texts, in order.
CREATE OR REPLACE FUNCTION ${s}.ht_append(p_bodies json) RETURNS void
LANGUAGE plpgsql AS ${q}
BEGIN
  ${appendBodies(s, "p_bodies")};
END ${q};

-- ht_issue_step: the limits (a refusal changes nothing), the save that supersedes, the issue's events. Version 4:
-- the counter hits and the event inserts inline (no nested function call), the result row by RETURN NEXT.
CREATE OR REPLACE FUNCTION ${s}.ht_issue_step(
  p_token_id text, p_guide text, p_provider text, p_beneficiary text, p_hash text, p_issued bigint,
  p_expires bigint, p_max_attempts integer, p_channel text,
  p_failures_key text, p_failures_max bigint,
  p_cooldown_key text, p_cooldown_max bigint, p_cooldown_window bigint,
  p_sends_key text, p_sends_max bigint, p_sends_window bigint,
  p_revoked_head text, p_events json)
RETURNS TABLE (r_outcome text, r_reset_at_ms bigint, r_superseded text)
LANGUAGE plpgsql AS ${q}
DECLARE
  v_count bigint;
  v_reset bigint;
  v_refusal text;
BEGIN
  SELECT c.count, c.reset_at_ms INTO v_count, v_reset FROM ${s}.counters AS c
    WHERE c.key = p_failures_key AND c.reset_at_ms > p_issued;
  IF COALESCE(v_count, 0) >= p_failures_max THEN
    r_outcome := 'locked_out';
    r_reset_at_ms := COALESCE(v_reset, 0);
    RETURN NEXT;
    RETURN;
  END IF;
  IF p_cooldown_key IS NOT NULL THEN
    SELECT c.count, c.reset_at_ms INTO v_count, v_reset FROM ${s}.counters AS c
      WHERE c.key = p_cooldown_key AND c.reset_at_ms > p_issued;
    IF COALESCE(v_count, 0) >= p_cooldown_max THEN
      r_outcome := 'cooldown';
      r_reset_at_ms := COALESCE(v_reset, 0);
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;
  SELECT c.count, c.reset_at_ms INTO v_count, v_reset FROM ${s}.counters AS c
    WHERE c.key = p_sends_key AND c.reset_at_ms > p_issued;
  IF COALESCE(v_count, 0) >= p_sends_max THEN
    r_outcome := 'sends_per_guide';
    r_reset_at_ms := COALESCE(v_reset, 0);
    RETURN NEXT;
    RETURN;
  END IF;
  -- A concurrent issue may have taken the last unit since the reads: its hit then refuses this one, and the
  -- subtransaction gives back every hit this step took, so a refused step changes nothing.
  BEGIN
    IF p_cooldown_key IS NOT NULL THEN
      ${counterHit(s, "p_cooldown_key", "p_cooldown_window", "p_issued")}
      INTO v_count, v_reset;
      IF v_count > p_cooldown_max THEN
        v_refusal := 'cooldown';
        RAISE EXCEPTION 'refused' USING ERRCODE = 'HT429';
      END IF;
    END IF;
    ${counterHit(s, "p_sends_key", "p_sends_window", "p_issued")}
    INTO v_count, v_reset;
    IF v_count > p_sends_max THEN
      v_refusal := 'sends_per_guide';
      RAISE EXCEPTION 'refused' USING ERRCODE = 'HT429';
    END IF;
  EXCEPTION WHEN SQLSTATE 'HT429' THEN
    r_outcome := v_refusal;
    r_reset_at_ms := v_reset;
    RETURN NEXT;
    RETURN;
  END;
  ${saveUpsert(s, [
    "p_token_id",
    "p_guide",
    "p_provider",
    "p_beneficiary",
    "p_hash",
    "p_issued",
    "p_expires",
    "p_max_attempts",
    "p_channel",
  ])}
  INTO r_superseded;
  IF r_superseded IS NOT NULL THEN
    ${appendBodies(s, `json_build_array(p_revoked_head || ${json("r_superseded")} || '}')`)};
  END IF;
  ${appendBodies(s, "p_events")};
  r_outcome := 'saved';
  RETURN NEXT;
END ${q};

${verifyFunction(s, q)}
${verifyStepWrapper(s, q)}
-- ht_app_begin: the app-mode budget reservation, the guide's app attempts and the secret.
CREATE OR REPLACE FUNCTION ${s}.ht_app_begin(
  p_beneficiary text, p_now bigint, p_failures_key text, p_failures_max bigint, p_failures_window bigint,
  p_attempts_key text, p_attempts_max bigint, p_attempts_window bigint, p_locked json)
RETURNS TABLE (r_outcome text, r_attempts bigint, r_key_id text, r_ciphertext text, r_created_at_ms bigint)
LANGUAGE plpgsql AS ${q}
DECLARE
  v_count bigint;
  v_reset bigint;
  v_secret record;
BEGIN
  ${counterHit(s, "p_failures_key", "p_failures_window", "p_now")}
  INTO v_count, v_reset;
  IF v_count > p_failures_max THEN
    PERFORM ${s}.ht_take_back(p_failures_key, p_now);
    PERFORM ${s}.ht_append(p_locked);
    RETURN QUERY SELECT 'locked'::text, NULL::bigint, NULL::text, NULL::text, NULL::bigint;
    RETURN;
  END IF;
  ${counterHit(s, "p_attempts_key", "p_attempts_window", "p_now")}
  INTO v_count, v_reset;
  IF v_count > p_attempts_max THEN
    PERFORM ${s}.ht_append(p_locked);
    PERFORM ${s}.ht_take_back(p_failures_key, p_now);
    RETURN QUERY SELECT 'locked'::text, NULL::bigint, NULL::text, NULL::text, NULL::bigint;
    RETURN;
  END IF;
  SELECT a.key_id, a.ciphertext, a.created_at_ms INTO v_secret FROM ${s}.app_secrets AS a
    WHERE a.beneficiary_id = p_beneficiary;
  IF NOT FOUND THEN
    PERFORM ${s}.ht_take_back(p_failures_key, p_now);
    RETURN QUERY SELECT 'not_found'::text, NULL::bigint, NULL::text, NULL::text, NULL::bigint;
    RETURN;
  END IF;
  RETURN QUERY SELECT 'compare'::text, v_count, v_secret.key_id, v_secret.ciphertext, v_secret.created_at_ms;
END ${q};

-- ht_app_finish: a matched app code's claim, the reserved unit given back, and the event of the claim.
CREATE OR REPLACE FUNCTION ${s}.ht_app_finish(
  p_now bigint, p_failures_key text, p_claim_key text, p_claim_expires bigint, p_verified json,
  p_replayed json)
RETURNS boolean
LANGUAGE plpgsql AS ${q}
DECLARE
  v_first boolean;
BEGIN
  INSERT INTO ${s}.claims AS o (key, expires_at_ms) VALUES (p_claim_key, p_claim_expires)
  ON CONFLICT (key) DO UPDATE SET expires_at_ms = EXCLUDED.expires_at_ms WHERE o.expires_at_ms <= p_now;
  v_first := FOUND;
  PERFORM ${s}.ht_take_back(p_failures_key, p_now);
  PERFORM ${s}.ht_append(CASE WHEN v_first THEN p_verified ELSE p_replayed END);
  RETURN v_first;
END ${q};
`;
}

/** The one-statement calls of the steps (texts without `;`). */
export function stepCalls(
  s: string,
): Record<"issue" | "verify" | "appBegin" | "appFinish" | "append", string> {
  return {
    issue: `SELECT r_outcome AS outcome, r_reset_at_ms AS reset_at_ms, r_superseded AS superseded
      FROM ${s}.ht_issue_step($1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint, $7::bigint,
        $8::integer, $9::text, $10::text, $11::bigint, $12::text, $13::bigint, $14::bigint, $15::text,
        $16::bigint, $17::bigint, $18::text, $19::json)`,
    verify: `SELECT ${s}.ht_verify($1::text, $2::text, $3::text, $4::bigint, $5::bigint,
        $6::text, $7::bigint, $8::text, $9::text) AS r`,
    appBegin: `SELECT * FROM ${s}.ht_app_begin($1::text, $2::bigint, $3::text, $4::bigint, $5::bigint,
        $6::text, $7::bigint, $8::bigint, $9::json)`,
    appFinish: `SELECT ${s}.ht_app_finish($1::bigint, $2::text, $3::text, $4::bigint, $5::json, $6::json) AS first`,
    append: `SELECT ${s}.ht_append($1::json)`,
  };
}

/** Events as the `json` argument of `ht_append`: an array of each event's `JSON.stringify` text. */
export function eventBodies(events: readonly object[]): string {
  return JSON.stringify(events.map((event) => JSON.stringify(event)));
}

/**
 * The JSON text of `{ ...event, tokenId }` without its `tokenId` value and closing brace, for the function to
 * complete with the superseded token's id.
 */
export function revokedHead(event: object): string {
  const { tokenId: _, ...rest } = event as { tokenId?: unknown };
  const text = JSON.stringify(rest);
  return `${text === "{}" ? "{" : `${text.slice(0, -1)},`}"tokenId":`;
}
