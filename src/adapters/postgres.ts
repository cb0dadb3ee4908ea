/**
 * `health-token/postgres`: a {@link TokenStore} on PostgreSQL (13+) or PGlite.
 *
 * `attempt` is one `UPDATE … RETURNING` whose outcome is computed in SQL from the row it locks; `save` with its
 * supersede is one `INSERT … ON CONFLICT DO UPDATE`. Every other operation is one statement too, and so is each
 * of the port's steps (`issueStep`, `verifyStep`, `appVerifyBegin`, `appVerifyFinish`): one call of a PL/pgSQL
 * function the migration creates, so a step and its events commit together. Concurrent
 * callers on any number of connections are serialized by the row lock, so of N concurrent correct attempts
 * exactly one gets `ok`.
 *
 * The pool is anything with `query(text, values)` resolving to `{ rows }`: a `pg` `Pool` or `Client`, or a
 * PGlite instance. The caller owns it; this module never imports a driver.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { PostgresTokenStore } from "health-token/postgres";
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on("error", (err) => log.warn(err)); // a terminated idle connection must not crash the process
 * const store = new PostgresTokenStore({ pool, schema: "health_token" });
 * await store.migrate(); // or run docs/sql/postgres.sql with your migration tool
 * setInterval(() => store.purge(Date.now()), 3_600_000);
 * ```
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { argOptions } from "../_internal/args.js";
import { ConfigError, StoreUnavailableError } from "../errors.js";
import type { TokenEvent } from "../ports/events.js";
import type { Channel } from "../ports/notifier.js";
import type {
  AppSecretRecord,
  AttemptInput,
  AttemptResult,
  CounterState,
  ListEventsOptions,
  NewToken,
  PurgeResult,
  StoredToken,
  TokenStatus,
  TokenStore,
} from "../ports/store.js";
import {
  type AppVerifyBeginInput,
  type AppVerifyBeginResult,
  type AppVerifyFinishInput,
  type AppVerifyFinishResult,
  type IssueStepInput,
  type IssueStepResult,
  type TokenStoreSteps,
  type VerifyStepInput,
  type VerifyStepResult,
  verifyStepEvents,
} from "../ports/store-steps.js";
import { quoteIdent } from "./_pg-ident.js";
import {
  attemptUpdate,
  counterHit,
  counterTakeBack,
  prefixed,
  saveUpsert,
  TOKEN_COLUMNS,
} from "./_postgres-sql.js";
import { dollarTag, eventBodies, postgresStepsSql, revokedHead, stepCalls } from "./_postgres-steps.js";

/**
 * What {@link PostgresTokenStore} needs of a pool: `pg`'s `Pool`/`Client` and PGlite fit.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * const pool: PostgresPoolLike = new pg.Pool({ connectionString: process.env.DATABASE_URL }); // or a PGlite
 * const store = new PostgresTokenStore({ pool });
 * await store.migrate();
 * ```
 */
export interface PostgresPoolLike {
  /** Runs one parameterized statement. */
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  /** Runs several statements at once (PGlite's `exec`); when absent, `query(text)` without values is used. */
  exec?: ((text: string) => Promise<unknown>) | undefined;
}

/** Options of {@link PostgresTokenStore}. */
export interface PostgresTokenStoreOptions {
  /** The pool the caller owns. */
  readonly pool: PostgresPoolLike;
  /** The schema holding the tables (created by {@link PostgresTokenStore.migrate}). Default `health_token`. */
  readonly schema?: string | undefined;
  /** How long events are kept before {@link PostgresTokenStore.purge} removes them (ms). Default 365 days. */
  readonly eventRetentionMs?: number | undefined;
  /**
   * Send each statement as a named prepared statement (`query({ name, text, values })`), so every connection
   * parses and plans it once. For node-postgres (`pg`) pools and clients only; PGlite and most other wrappers
   * do not take a config object. Default `false`: behind PgBouncer in transaction pooling mode named statements
   * fail unless it tracks them (1.21+ with `max_prepared_statements` above 0; the default from 1.24). Turn it on
   * for a direct connection or such a pooler; it saves the parse and plan of each call (docs/adapters.md).
   */
  readonly namedStatements?: boolean | undefined;
}

interface NamedQuery {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

/** The schema version this release writes and reads. */
export const POSTGRES_SCHEMA_VERSION = 5;

const DEFAULT_SCHEMA = "health_token";

/** Quotes a string literal (standard_conforming_strings, the default since PostgreSQL 9.1). */
function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Version 5 on an events table of version 4 or before (its key `seq`, indexes `events_beneficiary_idx` and
 * `events_event_id_idx`): the key becomes `(beneficiary_id, at_ms, seq) INCLUDE (event_id)` and the two indexes
 * go. The new key's index is built here, holding the table's lock until the transaction commits, unless an index
 * `events_key_idx` of those columns is already there (built beforehand `CONCURRENTLY`, docs/adapters.md): then it
 * only becomes the key.
 */
function eventsKeyMigration(schema: string): string {
  const s = quoteIdent(schema);
  const q = dollarTag(s);
  const old = quoteLiteral(`${s}.events_beneficiary_idx`);
  const prebuilt = quoteLiteral(`${s}.events_key_idx`);
  return `DO ${q}
BEGIN
  IF to_regclass(${old}) IS NOT NULL THEN
    IF to_regclass(${prebuilt}) IS NULL THEN
      CREATE UNIQUE INDEX events_key_idx ON ${s}.events (beneficiary_id, at_ms, seq) INCLUDE (event_id);
    END IF;
    ALTER TABLE ${s}.events DROP CONSTRAINT events_pkey;
    ALTER INDEX ${s}.events_key_idx RENAME TO events_pkey;
    ALTER TABLE ${s}.events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;
    DROP INDEX ${s}.events_beneficiary_idx;
    DROP INDEX IF EXISTS ${s}.events_event_id_idx;
  END IF;
END ${q};`;
}

/**
 * The migration SQL for a schema: idempotent (`IF NOT EXISTS` everywhere), in one transaction, serialized by an
 * advisory lock so several instances may run it at once, and recording {@link POSTGRES_SCHEMA_VERSION} in
 * `<schema>.schema_version`. The same text ships as `docs/sql/postgres.sql` (for the default schema) for teams
 * that run migrations with their own tool.
 *
 * @param schema - the schema name (default `health_token`); quoted, so any name of 1–63 bytes is safe
 * @example
 * ```ts
 * import { writeFileSync } from "node:fs";
 * writeFileSync("migrations/001_health_token.sql", postgresSchemaSql("health_token"));
 * ```
 */
export function postgresSchemaSql(schema: string = DEFAULT_SCHEMA): string {
  const s = quoteIdent(schema);
  return `-- health-token PostgreSQL schema, version ${POSTGRES_SCHEMA_VERSION}. Idempotent: safe to run again.
-- Generated by postgresSchemaSql(${JSON.stringify(schema)}); do not edit by hand.
BEGIN;
SELECT pg_advisory_xact_lock(hashtext(${quoteLiteral(`health-token:${schema}`)}));
CREATE SCHEMA IF NOT EXISTS ${s};

CREATE TABLE IF NOT EXISTS ${s}.schema_version (
  component text PRIMARY KEY,
  version integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The latest token of each guide; saving a new one replaces the row (the old id is reported as superseded).
CREATE TABLE IF NOT EXISTS ${s}.tokens (
  guide_id text PRIMARY KEY,
  token_id text NOT NULL,
  provider_id text NOT NULL,
  beneficiary_id text NOT NULL,
  code_hash text NOT NULL,
  issued_at_ms bigint NOT NULL,
  expires_at_ms bigint NOT NULL,
  max_attempts integer NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  status text NOT NULL CHECK (status IN ('active', 'consumed', 'revoked', 'locked')),
  channel text NOT NULL,
  last_outcome text,
  superseded_token_id text
);
CREATE INDEX IF NOT EXISTS tokens_expires_at_ms_idx ON ${s}.tokens (expires_at_ms);
-- Version 2: the hash and expiry of the token the row's token superseded while it was live, so that its late
-- code answers 'superseded' (and costs nothing) until it would have expired.
ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS prev_code_hash text;
ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS prev_expires_at_ms bigint;

CREATE TABLE IF NOT EXISTS ${s}.counters (
  key text PRIMARY KEY,
  count bigint NOT NULL,
  reset_at_ms bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS counters_reset_at_ms_idx ON ${s}.counters (reset_at_ms);
-- Version 4: room on every page for the next version of a row, so that an attempt (attempts, status, last outcome)
-- and a hit on a live window change no index and stay HOT updates. Pages written before keep their fill until
-- rewritten.
ALTER TABLE ${s}.tokens SET (fillfactor = 70);
ALTER TABLE ${s}.counters SET (fillfactor = 70);

CREATE TABLE IF NOT EXISTS ${s}.claims (
  key text PRIMARY KEY,
  expires_at_ms bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_expires_at_ms_idx ON ${s}.claims (expires_at_ms);

CREATE TABLE IF NOT EXISTS ${s}.app_secrets (
  beneficiary_id text PRIMARY KEY,
  key_id text NOT NULL,
  ciphertext text NOT NULL,
  created_at_ms bigint NOT NULL
);

-- Version 5: two indexes where there were four (each event insert maintains them all). The key serves the
-- beneficiary's history (scanned backwards: newest first, seq breaking ties) and, with event_id beside it, finds
-- a page's cursor among the beneficiary's entries without a table read; at_ms serves the retention purge.
CREATE TABLE IF NOT EXISTS ${s}.events (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  beneficiary_id text NOT NULL,
  event_id text NOT NULL,
  at_ms bigint NOT NULL,
  body text NOT NULL,
  CONSTRAINT events_pkey PRIMARY KEY (beneficiary_id, at_ms, seq) INCLUDE (event_id)
);
CREATE INDEX IF NOT EXISTS events_at_ms_idx ON ${s}.events (at_ms);
${eventsKeyMigration(schema)}

${postgresStepsSql(s)}
INSERT INTO ${s}.schema_version AS v (component, version) VALUES ('health-token', ${POSTGRES_SCHEMA_VERSION})
ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, updated_at = now()
WHERE v.version < EXCLUDED.version;
COMMIT;
`;
}

interface TokenRow {
  token_id: string;
  guide_id: string;
  provider_id: string;
  beneficiary_id: string;
  code_hash: string;
  issued_at_ms: string | number;
  expires_at_ms: string | number;
  max_attempts: string | number;
  attempts: string | number;
  status: string;
  channel: string;
}

/**
 * The row of `ht_verify`: its `text[]` in the order of `ht_verify_step`'s columns (outcome, token id, provider,
 * beneficiary, code hash, issued, expires, max attempts, attempts, status, channel, provider failures), or NULL.
 */
interface VerifyRow {
  r: (string | null)[] | null;
}

/** An attempt's result from its outcome (computed in SQL) and the token as the attempt left it. */
function toAttempt(outcome: string, token: StoredToken): AttemptResult {
  switch (outcome) {
    case "mismatch":
    case "wrong_provider":
      return { outcome, token, attemptsLeft: Math.max(0, token.maxAttempts - token.attempts) };
    case "ok":
    case "expired":
    case "consumed":
    case "revoked":
    case "locked":
    case "superseded":
      return { outcome, token };
    default:
      throw new StoreUnavailableError("attempt returned an unknown outcome", { scope: "postgres" });
  }
}

function toToken(row: TokenRow): StoredToken {
  return {
    tokenId: row.token_id,
    guideId: row.guide_id,
    providerId: row.provider_id,
    beneficiaryId: row.beneficiary_id,
    codeHash: row.code_hash,
    issuedAtMs: Number(row.issued_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    maxAttempts: Number(row.max_attempts),
    attempts: Number(row.attempts),
    status: row.status as TokenStatus,
    channel: row.channel as Channel,
  };
}

/**
 * A {@link TokenStore} on PostgreSQL. Tables (in the configured schema): `tokens` (one row per guide: its latest
 * token), `counters`, `claims`, `app_secrets`, `events`, and `schema_version`. Call {@link PostgresTokenStore.migrate}
 * once at start-up (or apply `docs/sql/postgres.sql`), and {@link PostgresTokenStore.purge} periodically.
 *
 * @example
 * ```ts
 * const store = new PostgresTokenStore({ pool, schema: "health_token" });
 * await store.migrate();
 * const tokens = createTokenService({ store, notifier, pepper });
 * ```
 */
export class PostgresTokenStore implements TokenStore, TokenStoreSteps {
  readonly #pool: PostgresPoolLike;
  readonly #schema: string;
  readonly #eventRetentionMs: number;
  readonly #named: boolean;
  readonly #names = new Map<string, string>();
  readonly #sql: Record<
    | "save"
    | "attempt"
    | "revoke"
    | "get"
    | "increment"
    | "decrement"
    | "peek"
    | "claim"
    | "putSecret"
    | "getSecret"
    | "append"
    | "list"
    | "purge"
    | "version",
    string
  >;
  readonly #steps: ReturnType<typeof stepCalls>;

  /** @param options - the pool, the schema and the event retention; see {@link PostgresTokenStoreOptions} */
  constructor(options: PostgresTokenStoreOptions) {
    argOptions(options, "PostgresTokenStore", "postgres");
    if (!options.pool || typeof options.pool.query !== "function") {
      throw new ConfigError("pool must have a query(text, values) method", { scope: "postgres" });
    }
    this.#pool = options.pool;
    this.#schema = options.schema ?? DEFAULT_SCHEMA;
    const retention = options.eventRetentionMs ?? 365 * 86_400_000;
    if (!Number.isSafeInteger(retention) || retention < 1) {
      throw new ConfigError("eventRetentionMs must be a positive integer", { scope: "postgres" });
    }
    this.#eventRetentionMs = retention;
    this.#named = options.namedStatements === true;
    const s = quoteIdent(this.#schema);
    this.#steps = stepCalls(s);
    this.#sql = {
      save: saveUpsert(s, ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9"]),
      attempt: `${attemptUpdate(s, { guide: "$1", provider: "$2", hash: "$3", now: "$4" })}
        RETURNING t.last_outcome AS outcome, ${prefixed("t", TOKEN_COLUMNS)}`,
      revoke: `UPDATE ${s}.tokens AS t SET status = 'revoked', last_outcome = NULL
        WHERE t.guide_id = $1 AND t.status = 'active' AND t.expires_at_ms > $2::bigint
        RETURNING ${prefixed("t", TOKEN_COLUMNS)}`,
      get: `SELECT ${TOKEN_COLUMNS} FROM ${s}.tokens WHERE guide_id = $1`,
      increment: counterHit(s, "$1", "$2", "$3"),
      decrement: counterTakeBack(s, "$1", "$2"),
      peek: `SELECT count, reset_at_ms FROM ${s}.counters WHERE key = $1 AND reset_at_ms > $2::bigint`,
      claim: `INSERT INTO ${s}.claims AS o (key, expires_at_ms) VALUES ($1, $2::bigint)
        ON CONFLICT (key) DO UPDATE SET expires_at_ms = EXCLUDED.expires_at_ms WHERE o.expires_at_ms <= $3::bigint
        RETURNING 1 AS claimed`,
      putSecret: `INSERT INTO ${s}.app_secrets (beneficiary_id, key_id, ciphertext, created_at_ms)
        VALUES ($1, $2, $3, $4::bigint)
        ON CONFLICT (beneficiary_id) DO UPDATE SET key_id = EXCLUDED.key_id, ciphertext = EXCLUDED.ciphertext,
          created_at_ms = EXCLUDED.created_at_ms`,
      getSecret: `SELECT key_id, ciphertext, created_at_ms FROM ${s}.app_secrets WHERE beneficiary_id = $1`,
      append: `INSERT INTO ${s}.events (beneficiary_id, event_id, at_ms, body) VALUES ($1, $2, $3::bigint, $4)`,
      list: `SELECT body FROM ${s}.events
        WHERE beneficiary_id = $1
          AND ($3::text IS NULL OR (at_ms, seq) < (
            SELECT c.at_ms, c.seq FROM ${s}.events AS c
            WHERE c.beneficiary_id = $1 AND c.event_id = $3::text ORDER BY c.seq DESC LIMIT 1))
        ORDER BY at_ms DESC, seq DESC
        LIMIT $2::integer`,
      purge: `WITH
          t AS (DELETE FROM ${s}.tokens WHERE expires_at_ms <= $1::bigint RETURNING 1),
          c AS (DELETE FROM ${s}.counters WHERE reset_at_ms <= $1::bigint RETURNING 1),
          o AS (DELETE FROM ${s}.claims WHERE expires_at_ms <= $1::bigint RETURNING 1),
          e AS (DELETE FROM ${s}.events WHERE at_ms < $1::bigint - $2::bigint RETURNING 1)
        SELECT (SELECT count(*) FROM t) AS tokens, (SELECT count(*) FROM e) AS events,
          (SELECT count(*) FROM c) + (SELECT count(*) FROM o) AS others`,
      version: `SELECT version FROM ${s}.schema_version WHERE component = 'health-token'`,
    };
  }

  async #query<R>(op: string, text: string, values?: unknown[]): Promise<R[]> {
    try {
      let result: { rows: unknown[] };
      if (values === undefined) result = await this.#pool.query(text);
      else if (this.#named) {
        const query = this.#pool.query as unknown as (config: NamedQuery) => Promise<{ rows: unknown[] }>;
        result = await query.call(this.#pool, { name: this.#nameOf(text), text, values });
      } else result = await this.#pool.query(text, values);
      return result.rows as R[];
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const state = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : "";
      throw new StoreUnavailableError(`${op} failed${state}`, { cause: error, scope: "postgres" });
    }
  }

  /** `ht_` and 20 hex digits of the statement's SHA-256: one name per distinct text (schema included). */
  #nameOf(text: string): string {
    let name = this.#names.get(text);
    if (name === undefined) {
      name = `ht_${bytesToHex(sha256(utf8ToBytes(text))).slice(0, 20)}`;
      this.#names.set(text, name);
    }
    return name;
  }

  /**
   * Creates or upgrades the schema and its tables; idempotent and safe to run from several instances at once.
   * Throws `ConfigError` when the database holds a newer schema version than this release knows.
   */
  async migrate(): Promise<void> {
    const sql = postgresSchemaSql(this.#schema);
    try {
      if (typeof this.#pool.exec === "function") await this.#pool.exec(sql);
      else await this.#pool.query(sql);
    } catch (error) {
      throw new StoreUnavailableError("migrate failed", { cause: error, scope: "postgres" });
    }
    const version = await this.schemaVersion();
    if (version !== undefined && version > POSTGRES_SCHEMA_VERSION) {
      throw new ConfigError(
        `the database schema is version ${version}; this release knows up to ${POSTGRES_SCHEMA_VERSION}`,
        { scope: "postgres" },
      );
    }
  }

  /** The schema version recorded in the database, or `undefined` before the first migration. */
  async schemaVersion(): Promise<number | undefined> {
    try {
      const rows = await this.#query<{ version: number }>("schemaVersion", this.#sql.version, []);
      return rows[0] === undefined ? undefined : Number(rows[0].version);
    } catch (error) {
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      if (code === "42P01" || code === "3F000") return undefined; // no table or no schema yet
      throw error;
    }
  }

  async save(token: NewToken): Promise<{ superseded: string[] }> {
    const rows = await this.#query<{ superseded_token_id: string | null }>("save", this.#sql.save, [
      token.tokenId,
      token.guideId,
      token.providerId,
      token.beneficiaryId,
      token.codeHash,
      token.issuedAtMs,
      token.expiresAtMs,
      token.maxAttempts,
      token.channel,
    ]);
    const id = rows[0]?.superseded_token_id;
    return { superseded: id === null || id === undefined ? [] : [id] };
  }

  async attempt(input: AttemptInput): Promise<AttemptResult> {
    const rows = await this.#query<TokenRow & { outcome: string }>("attempt", this.#sql.attempt, [
      input.guideId,
      input.providerId,
      input.candidateHash,
      input.nowMs,
    ]);
    const row = rows[0];
    return row ? toAttempt(row.outcome, toToken(row)) : { outcome: "not_found" };
  }

  async revoke(guideId: string, nowMs: number): Promise<StoredToken | undefined> {
    const rows = await this.#query<TokenRow>("revoke", this.#sql.revoke, [guideId, nowMs]);
    return rows[0] ? { ...toToken(rows[0]), status: "active" } : undefined;
  }

  async get(guideId: string): Promise<StoredToken | undefined> {
    const rows = await this.#query<TokenRow>("get", this.#sql.get, [guideId]);
    return rows[0] ? toToken(rows[0]) : undefined;
  }

  async increment(key: string, windowMs: number, nowMs: number): Promise<CounterState> {
    const rows = await this.#query<{ count: string; reset_at_ms: string }>("increment", this.#sql.increment, [
      key,
      windowMs,
      nowMs,
    ]);
    const row = rows[0];
    if (!row) throw new StoreUnavailableError("increment returned no row", { scope: "postgres" });
    return { count: Number(row.count), resetAtMs: Number(row.reset_at_ms) };
  }

  decrement(key: string, nowMs: number): Promise<CounterState> {
    return this.#counterIn("decrement", key, nowMs);
  }

  peek(key: string, nowMs: number): Promise<CounterState> {
    return this.#counterIn("peek", key, nowMs);
  }

  /** A counter statement on (key, nowMs) that returns the row in its window, or none. */
  async #counterIn(op: "decrement" | "peek", key: string, nowMs: number): Promise<CounterState> {
    const rows = await this.#query<{ count: string; reset_at_ms: string }>(op, this.#sql[op], [key, nowMs]);
    const row = rows[0];
    return row
      ? { count: Number(row.count), resetAtMs: Number(row.reset_at_ms) }
      : { count: 0, resetAtMs: 0 };
  }

  async claimOnce(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    const rows = await this.#query("claimOnce", this.#sql.claim, [key, expiresAtMs, nowMs]);
    return rows.length > 0;
  }

  async putAppSecret(record: AppSecretRecord): Promise<void> {
    await this.#query("putAppSecret", this.#sql.putSecret, [
      record.beneficiaryId,
      record.keyId,
      record.ciphertext,
      record.createdAtMs,
    ]);
  }

  async getAppSecret(beneficiaryId: string): Promise<AppSecretRecord | undefined> {
    const rows = await this.#query<{ key_id: string; ciphertext: string; created_at_ms: string }>(
      "getAppSecret",
      this.#sql.getSecret,
      [beneficiaryId],
    );
    const row = rows[0];
    return row
      ? {
          beneficiaryId,
          keyId: row.key_id,
          ciphertext: row.ciphertext,
          createdAtMs: Number(row.created_at_ms),
        }
      : undefined;
  }

  async appendEvent(event: TokenEvent): Promise<void> {
    await this.#query("appendEvent", this.#sql.append, [
      event.beneficiaryId,
      event.id,
      event.atMs,
      JSON.stringify(event),
    ]);
  }

  async listEvents(beneficiaryId: string, options: ListEventsOptions): Promise<TokenEvent[]> {
    const limit = Math.min(1000, Math.max(1, Math.floor(options.limit)));
    const rows = await this.#query<{ body: string }>("listEvents", this.#sql.list, [
      beneficiaryId,
      limit,
      options.before ?? null,
    ]);
    try {
      return rows.map((r) => JSON.parse(r.body) as TokenEvent);
    } catch (error) {
      throw new StoreUnavailableError("listEvents read a corrupt event", { cause: error, scope: "postgres" });
    }
  }

  async purge(nowMs: number): Promise<PurgeResult> {
    const rows = await this.#query<{ tokens: string; events: string }>("purge", this.#sql.purge, [
      nowMs,
      this.#eventRetentionMs,
    ]);
    return { tokens: Number(rows[0]?.tokens ?? 0), events: Number(rows[0]?.events ?? 0) };
  }

  /**
   * The issue step (see {@link TokenStoreSteps.issueStep}): one call of the schema's `ht_issue_step`, so the
   * limits, the save and the events are one transaction; a refused issue changes nothing.
   */
  async issueStep(input: IssueStepInput): Promise<IssueStepResult> {
    const { token, failures, cooldown, sends } = input;
    const rows = await this.#query<{
      outcome: string;
      reset_at_ms: string | null;
      superseded: string | null;
    }>("issueStep", this.#steps.issue, [
      token.tokenId,
      token.guideId,
      token.providerId,
      token.beneficiaryId,
      token.codeHash,
      token.issuedAtMs,
      token.expiresAtMs,
      token.maxAttempts,
      token.channel,
      failures.key,
      failures.max,
      cooldown?.key ?? null,
      cooldown?.max ?? null,
      cooldown?.windowMs ?? null,
      sends.key,
      sends.max,
      sends.windowMs,
      revokedHead(input.revokedEvent),
      eventBodies(input.issuedEvents),
    ]);
    const row = rows[0];
    switch (row?.outcome) {
      case "saved": {
        const superseded = row.superseded === null ? [] : [row.superseded];
        const revoked = superseded.map((tokenId) => ({ ...input.revokedEvent, tokenId }) as TokenEvent);
        return { outcome: "saved", superseded, events: [...revoked, ...input.issuedEvents] };
      }
      case "locked_out":
      case "cooldown":
      case "sends_per_guide":
        return { outcome: row.outcome, resetAtMs: Number(row.reset_at_ms) };
      default:
        throw new StoreUnavailableError("issueStep returned no outcome", { scope: "postgres" });
    }
  }

  /**
   * The verify step (see {@link TokenStoreSteps.verifyStep}): one call of the schema's `ht_verify`, which
   * makes the attempt, charges the failure counter (the beneficiary's key is built in SQL from the token's
   * beneficiary, as `rateLimitKeys.failures` builds it) and appends the events of `verifyStepEvents`.
   */
  async verifyStep(input: VerifyStepInput): Promise<VerifyStepResult> {
    const rows = await this.#query<VerifyRow>("verifyStep", this.#steps.verify, [
      input.guideId,
      input.providerId,
      input.candidateHash,
      input.nowMs,
      input.failureWindowMs,
      input.providerFailures.key,
      input.providerFailures.windowMs,
      input.eventIds[0],
      input.eventIds[1],
    ]);
    const r = rows[0]?.r;
    if (!r) return { attempt: { outcome: "not_found" }, events: [] };
    const [
      outcome,
      tokenId,
      providerId,
      beneficiaryId,
      codeHash,
      issued,
      expires,
      max,
      attempts,
      status,
      channel,
    ] = r as string[];
    const attempt = toAttempt(outcome!, {
      tokenId: tokenId!,
      guideId: input.guideId,
      providerId: providerId!,
      beneficiaryId: beneficiaryId!,
      codeHash: codeHash!,
      issuedAtMs: Number(issued),
      expiresAtMs: Number(expires),
      maxAttempts: Number(max),
      attempts: Number(attempts),
      status: status as TokenStatus,
      channel: channel as Channel,
    });
    const failures = r[11];
    const providerFailures = failures === null || failures === undefined ? undefined : Number(failures);
    return { attempt, events: verifyStepEvents(input, attempt, providerFailures) };
  }

  /** The app-mode reservation (see {@link TokenStoreSteps.appVerifyBegin}): one call of `ht_app_begin`. */
  async appVerifyBegin(input: AppVerifyBeginInput): Promise<AppVerifyBeginResult> {
    const { failures, attempts } = input;
    const rows = await this.#query<{
      r_outcome: string;
      r_attempts: string | null;
      r_key_id: string | null;
      r_ciphertext: string | null;
      r_created_at_ms: string | null;
    }>("appVerifyBegin", this.#steps.appBegin, [
      input.beneficiaryId,
      input.nowMs,
      failures.key,
      failures.max,
      failures.windowMs,
      attempts.key,
      attempts.max,
      attempts.windowMs,
      eventBodies([input.lockedEvent]),
    ]);
    const row = rows[0];
    switch (row?.r_outcome) {
      case "locked":
        return { outcome: "locked", events: [input.lockedEvent] };
      case "not_found":
        return { outcome: "not_found" };
      case "compare":
        return {
          outcome: "compare",
          attempts: Number(row!.r_attempts),
          secret: {
            beneficiaryId: input.beneficiaryId,
            keyId: row!.r_key_id as string,
            ciphertext: row!.r_ciphertext as string,
            createdAtMs: Number(row!.r_created_at_ms),
          },
        };
      default:
        throw new StoreUnavailableError("appVerifyBegin returned no outcome", { scope: "postgres" });
    }
  }

  /**
   * The settlement of an app-mode reservation (see {@link TokenStoreSteps.appVerifyFinish}): one call of
   * `ht_app_finish` for a match, one append of the events for a mismatch.
   */
  async appVerifyFinish(input: AppVerifyFinishInput): Promise<AppVerifyFinishResult> {
    if (!input.matched) {
      await this.#query("appVerifyFinish", this.#steps.append, [eventBodies(input.events)]);
      return { first: false, events: input.events };
    }
    const rows = await this.#query<{ first: boolean }>("appVerifyFinish", this.#steps.appFinish, [
      input.nowMs,
      input.failuresKey,
      input.claim.key,
      input.claim.expiresAtMs,
      eventBodies([input.verifiedEvent]),
      eventBodies([input.replayedEvent]),
    ]);
    const first = rows[0]?.first === true;
    return { first, events: [first ? input.verifiedEvent : input.replayedEvent] };
  }
}

export {
  POSTGRES_GUIDES_SCHEMA_VERSION,
  type PostgresGuidePool,
  PostgresGuideRepository,
  type PostgresGuideRepositoryOptions,
  postgresGuidesSchemaSql,
} from "./postgres-guides.js";
