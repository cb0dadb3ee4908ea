/**
 * A third-party store, checked with the conformance kit.
 *
 * `KeyValueTokenStore` keeps everything as JSON text in one `Map<string, string>`, the shape of a simple
 * key-value service. Each method runs in one synchronous section (no `await` between its read and its write),
 * which is what makes it atomic in one process. It implements one optional step, `verifyStep`, to show the
 * second form of the port: the kit checks it against the service's composition of the fine-grained methods. `checkKeyValueStore(test)` is the whole wiring a store author
 * needs; `test/examples/custom-store.test.ts` runs it under vitest, and `npx tsx examples/custom-store.ts` runs
 * it with the tiny runner at the bottom (the kit takes any runner).
 *
 * In your project, import from "health-token" and "health-token/testing".
 */
import type {
  AppSecretRecord,
  AttemptInput,
  AttemptResult,
  CounterState,
  ListEventsOptions,
  NewToken,
  PurgeResult,
  StoredToken,
  TokenEvent,
  TokenStore,
  TokenStoreSteps,
  VerifyStepInput,
  VerifyStepResult,
} from "../src/index.js";
import { rateLimitKeys, verifyStepEvents } from "../src/index.js";
import { type ConformanceRunner, runStoreConformance } from "../src/testing/index.js";

type Stored = { events: { seq: number; event: TokenEvent }[]; seq: number };

/** A store over a string key-value map (a stand-in for any KV service with per-key JSON values). */
export class KeyValueTokenStore implements TokenStore, TokenStoreSteps {
  constructor(
    private readonly kv: Map<string, string> = new Map(),
    private readonly eventRetentionMs = 365 * 86_400_000,
  ) {}

  private read<T>(key: string): T | undefined {
    const text = this.kv.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }
  private write(key: string, value: unknown): void {
    this.kv.set(key, JSON.stringify(value));
  }

  async save(token: NewToken): Promise<{ superseded: string[] }> {
    const old = this.read<StoredToken>(`token/${token.guideId}`);
    const live = old?.status === "active" && token.issuedAtMs < old.expiresAtMs;
    const superseded = live ? [old.tokenId] : [];
    // the superseded code's hash, so that a late message carrying it answers "superseded" at no cost
    if (live) this.write(`prev/${token.guideId}`, { codeHash: old.codeHash, expiresAtMs: old.expiresAtMs });
    else this.kv.delete(`prev/${token.guideId}`);
    this.write(`token/${token.guideId}`, { ...token, attempts: 0, status: "active" });
    return { superseded };
  }

  async attempt(input: AttemptInput): Promise<AttemptResult> {
    return this.attemptNow(input);
  }

  private attemptNow(input: AttemptInput): AttemptResult {
    const t = this.read<StoredToken>(`token/${input.guideId}`);
    if (!t) return { outcome: "not_found" };
    if (t.status === "revoked" || t.status === "consumed") return { outcome: t.status, token: t };
    if (input.nowMs >= t.expiresAtMs) return { outcome: "expired", token: t };
    if (t.status === "locked") return { outcome: "locked", token: t };
    const wrong =
      t.providerId !== input.providerId
        ? "wrong_provider"
        : t.codeHash !== input.candidateHash
          ? "mismatch"
          : null;
    if (wrong === "mismatch") {
      const prev = this.read<{ codeHash: string; expiresAtMs: number }>(`prev/${input.guideId}`);
      if (prev && prev.codeHash === input.candidateHash && input.nowMs < prev.expiresAtMs) {
        return { outcome: "superseded", token: t };
      }
    }
    if (wrong === null) {
      const token: StoredToken = { ...t, status: "consumed" };
      this.write(`token/${input.guideId}`, token);
      return { outcome: "ok", token };
    }
    const attempts = t.attempts + 1;
    const token: StoredToken = { ...t, attempts, status: attempts >= t.maxAttempts ? "locked" : "active" };
    this.write(`token/${input.guideId}`, token);
    return { outcome: wrong, token, attemptsLeft: Math.max(0, t.maxAttempts - attempts) };
  }

  async revoke(guideId: string, nowMs: number): Promise<StoredToken | undefined> {
    const t = this.read<StoredToken>(`token/${guideId}`);
    if (t?.status !== "active" || nowMs >= t.expiresAtMs) return undefined;
    this.write(`token/${guideId}`, { ...t, status: "revoked" });
    return t;
  }

  async get(guideId: string): Promise<StoredToken | undefined> {
    return this.read<StoredToken>(`token/${guideId}`);
  }

  async increment(key: string, windowMs: number, nowMs: number): Promise<CounterState> {
    return this.incrementNow(key, windowMs, nowMs);
  }

  private incrementNow(key: string, windowMs: number, nowMs: number): CounterState {
    const c = this.read<CounterState>(`counter/${key}`);
    const next =
      c && nowMs < c.resetAtMs ? { ...c, count: c.count + 1 } : { count: 1, resetAtMs: nowMs + windowMs };
    this.write(`counter/${key}`, next);
    return next;
  }

  async decrement(key: string, nowMs: number): Promise<CounterState> {
    const c = this.read<CounterState>(`counter/${key}`);
    if (!c || nowMs >= c.resetAtMs) return { count: 0, resetAtMs: 0 };
    const next = { ...c, count: Math.max(0, c.count - 1) };
    this.write(`counter/${key}`, next);
    return next;
  }

  async peek(key: string, nowMs: number): Promise<CounterState> {
    const c = this.read<CounterState>(`counter/${key}`);
    return c && nowMs < c.resetAtMs ? c : { count: 0, resetAtMs: 0 };
  }

  async claimOnce(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    const until = this.read<number>(`claim/${key}`);
    if (until !== undefined && nowMs < until) return false;
    this.write(`claim/${key}`, expiresAtMs);
    return true;
  }

  async putAppSecret(record: AppSecretRecord): Promise<void> {
    this.write(`secret/${record.beneficiaryId}`, record);
  }

  async getAppSecret(beneficiaryId: string): Promise<AppSecretRecord | undefined> {
    return this.read<AppSecretRecord>(`secret/${beneficiaryId}`);
  }

  async appendEvent(event: TokenEvent): Promise<void> {
    this.appendNow(event);
  }

  private appendNow(event: TokenEvent): void {
    const log = this.read<Stored>(`events/${event.beneficiaryId}`) ?? { events: [], seq: 0 };
    log.events.push({ seq: ++log.seq, event });
    this.write(`events/${event.beneficiaryId}`, log);
  }

  /**
   * The optional verify step (`TokenStoreSteps.verifyStep`): the attempt, the failure counter and the events
   * in one synchronous section, so a verification is one call to the store and no event can be missing after
   * a consumed token. Without it the service composes `attempt`, `increment` and `appendEvent` itself.
   */
  async verifyStep(input: VerifyStepInput): Promise<VerifyStepResult> {
    const attempt = this.attemptNow(input);
    let providerFailures: number | undefined;
    if (attempt.outcome === "mismatch") {
      const key = rateLimitKeys.failures(attempt.token.beneficiaryId);
      this.incrementNow(key, input.failureWindowMs, input.nowMs);
    } else if (attempt.outcome === "wrong_provider") {
      const { key, windowMs } = input.providerFailures;
      providerFailures = this.incrementNow(key, windowMs, input.nowMs).count;
    }
    const events = verifyStepEvents(input, attempt, providerFailures);
    for (const event of events) this.appendNow(event);
    return { attempt, events };
  }

  async listEvents(beneficiaryId: string, options: ListEventsOptions): Promise<TokenEvent[]> {
    const log = this.read<Stored>(`events/${beneficiaryId}`);
    if (!log) return [];
    const sorted = log.events
      .sort((a, b) => b.event.atMs - a.event.atMs || b.seq - a.seq)
      .map((e) => e.event);
    const start = options.before === undefined ? 0 : sorted.findIndex((e) => e.id === options.before) + 1;
    return start === 0 && options.before !== undefined ? [] : sorted.slice(start, start + options.limit);
  }

  async purge(nowMs: number): Promise<PurgeResult> {
    let tokens = 0;
    let events = 0;
    for (const key of [...this.kv.keys()]) {
      const [kind] = key.split("/", 1);
      const value = this.read<unknown>(key);
      if (kind === "token" && nowMs >= (value as StoredToken).expiresAtMs)
        tokens += Number(this.kv.delete(key));
      if (kind === "counter" && nowMs >= (value as CounterState).resetAtMs) this.kv.delete(key);
      if (kind === "claim" && nowMs >= (value as number)) this.kv.delete(key);
      if (kind === "prev" && nowMs >= (value as { expiresAtMs: number }).expiresAtMs) this.kv.delete(key);
      if (kind === "events") {
        const log = value as Stored;
        const kept = log.events.filter((e) => e.event.atMs >= nowMs - this.eventRetentionMs);
        events += log.events.length - kept.length;
        this.write(key, { ...log, events: kept });
      }
    }
    return { tokens, events };
  }
}

/** The wiring: this is all a store author writes to run the whole contract against their store. */
export function checkKeyValueStore(test: ConformanceRunner): void {
  const retentionMs = 7 * 86_400_000;
  const maps = new Map<string, Map<string, string>>(); // one backing map per namespace, shared by its stores
  runStoreConformance({
    name: "KeyValueTokenStore (example)",
    createStore: ({ namespace }) => {
      const kv = maps.get(namespace) ?? new Map<string, string>();
      maps.set(namespace, kv);
      return new KeyValueTokenStore(kv, retentionMs);
    },
    cleanup: ({ namespace }) => {
      maps.delete(namespace);
    },
    capabilities: { eventRetentionMs: retentionMs },
    test,
  });
}

// `npx tsx examples/custom-store.ts`: a runner in a dozen lines, to show the kit needs no framework.
if (import.meta.url === `file://${process.argv[1]}`) {
  const cases: { name: string; body: () => Promise<void> }[] = [];
  const path: string[] = [];
  checkKeyValueStore({
    describe: (name, body) => {
      path.push(name);
      body();
      path.pop();
    },
    // No `expect`: the kit compares by itself, the same way under every runner.
    it: (name, body) => void cases.push({ name: [...path, name].join(" › "), body }),
  });
  let failed = 0;
  for (const c of cases) {
    try {
      await c.body();
      console.log(`✓ ${c.name}`);
    } catch (error) {
      failed++;
      console.error(`✗ ${c.name}\n  ${String(error).split("\n").join("\n  ")}`);
    }
  }
  console.log(`\n${cases.length - failed}/${cases.length} conformance cases passed`);
  process.exitCode = failed === 0 ? 0 : 1;
}
