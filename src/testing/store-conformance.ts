/**
 * The store conformance kit: one suite that checks every rule of the {@link TokenStore} contract against any
 * store, with the test runner passed in (vitest, jest, node:test wrappers, or a hand-written runner).
 *
 * @module
 */

import { argOptions } from "../_internal/args.js";
import { ConfigError } from "../errors.js";
import { rateLimitKeys } from "../policy/rate-limit.js";
import type { TokenEvent } from "../ports/events.js";
import type { AttemptResult, NewToken, StoredToken, TokenStore } from "../ports/store.js";
import type { TokenStoreSteps } from "../ports/store-steps.js";
import {
  declareInterruptCases,
  type InterruptCaseDeclarer,
  type StepInterrupter,
} from "./_interrupt-conformance.js";
import { declareStepCases, type StepCaseDeclarer } from "./_step-conformance.js";
import { type ConformanceAssertion, conformanceExpect } from "./expect.js";

export type {
  InterruptedStep,
  StepInterruptContext,
  StepInterrupter,
} from "./_interrupt-conformance.js";

/**
 * The test runner handed to {@link runStoreConformance}: `describe` and `it`, as vitest and Jest name them
 * (for `node:test`, use {@link nodeTestRunner}). When `it` has an `it.skip`, skipped cases are declared with it.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from "vitest";
 * const test: ConformanceRunner = { describe, it, expect }; // vitest's or Jest's globals; node:test: nodeTestRunner
 * runStoreConformance({ name: "MyStore", createStore: () => new MyStore(), test });
 * ```
 */
export interface ConformanceRunner {
  /** Groups cases; called synchronously while the suite is declared. */
  describe(name: string, body: () => void): void;
  /** Declares one asynchronous case, with an optional timeout in ms. */
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
  /**
   * Not used by the store kit, which compares with {@link conformanceExpect} so that its verdict is the same
   * under every runner; accepted so that `{ describe, it, expect }` still fits.
   */
  expect?(actual: unknown): unknown;
}

/** What a store can do; the kit adapts the cases it runs. */
export interface StoreCapabilities {
  /**
   * Whether separate instances created for the same namespace share their data (Redis, PostgreSQL: `true`,
   * the default). When `false` (an in-process store), the concurrency cases use a single instance.
   */
  readonly sharedAcrossInstances?: boolean | undefined;
  /**
   * The event retention the store was created with (ms). When given, the kit checks that `purge` removes
   * events older than it and keeps the others; when absent, only the token, counter and claim purge is checked.
   */
  readonly eventRetentionMs?: number | undefined;
  /** Concurrent correct attempts in the single-use race (default 200). */
  readonly concurrentAttempts?: number | undefined;
  /** Instances spread over in the concurrency cases when data is shared (default 4, at least 4). */
  readonly instances?: number | undefined;
  /** Timeout of each concurrency case in ms (default 60,000). */
  readonly concurrencyTimeoutMs?: number | undefined;
  /**
   * Rounds of each interrupted-step case, each with its own ids and `ctx.round` (default 8, at least 2); the
   * cases run only with {@link StoreConformanceOptions.interrupt}, within {@link concurrencyTimeoutMs}.
   */
  readonly interruptRounds?: number | undefined;
}

/** What {@link runStoreConformance} is given. */
export interface StoreConformanceOptions {
  /** The store's name, used as the title of the suite. */
  readonly name: string;
  /**
   * Creates a store for a namespace. Each case gets a fresh namespace (letters, digits and `_`, starting with
   * a letter, at most 40 characters: usable as a key prefix or a schema name); stores created for one namespace
   * must see the same data, stores of different namespaces must not see each other's.
   */
  readonly createStore: (ctx: { readonly namespace: string }) => TokenStore | Promise<TokenStore>;
  /** Called after each case with its namespace, to drop its data and close what `createStore` opened. */
  readonly cleanup?: ((ctx: { readonly namespace: string }) => void | Promise<void>) | undefined;
  /** What the store can do. */
  readonly capabilities?: StoreCapabilities | undefined;
  /** The test runner. */
  readonly test: ConformanceRunner;
  /**
   * Cases to skip, by their exact title, with the reason (shown in the skipped case's title). A title that
   * matches no case fails the suite, so a renamed case cannot be skipped silently.
   */
  readonly skip?: Readonly<Record<string, string>> | undefined;
  /**
   * How to cut a step's connection while the step is in flight. Given, the kit runs its interrupted-step
   * cases: `verifyStep` with the right code and with wrong codes, `issueStep`, `appVerifyBegin` and
   * `appVerifyFinish`, each over several rounds; after each cut it reads the state back through a healthy
   * store and requires either the step's whole change with all of its events, or nothing of it (a consumed
   * token with its `token.verified`, a counted attempt with its counter and `token.rejected`, a saved token
   * with its hits and `token.issued`). Not given (a store with no connection to cut, such as the memory
   * store, whose steps are one synchronous section), the cases are declared skipped with that reason. A
   * store without one of the steps composes it from non-atomic calls: the case then fails, telling you to
   * implement the step or to skip the case.
   *
   * @example
   * ```ts
   * // Redis: the step's store on a client of its own; even rounds: sent behind a BLPOP that blocks the
   * // connection and killed there (never run); odd rounds: killed once it answered (it took effect)
   * interrupt: async ({ namespace, round, run }) => {
   *   const victim = new Redis(url, { maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, retryStrategy: () => null });
   *   victim.on("error", () => {});
   *   const id = String(await victim.call("CLIENT", "ID"));
   *   const blocked = round % 2 === 0 ? victim.call("BLPOP", `${namespace}:never`, "0").catch(() => {}) : undefined;
   *   const settled = run(new RedisTokenStore({ client: victim, prefix: namespace }));
   *   if (blocked) await new Promise((resolve) => setImmediate(resolve));
   *   else await settled;
   *   await admin.call("CLIENT", "KILL", "ID", id);
   *   await Promise.all([blocked, settled]);
   *   victim.disconnect();
   * },
   * ```
   */
  readonly interrupt?: StepInterrupter | undefined;
}

/** 2026-09-21T00:00:00Z: a fixed, realistic "now" for every case. */
const T0 = 1_790_000_000_000;
const MINUTE = 60_000;

let runCounter = 0;

function randomTag(): string {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => (b % 36).toString(36)).join("");
}

function token(overrides: Partial<NewToken> & { readonly tokenId: string }): NewToken {
  return {
    guideId: "guide-1",
    providerId: "provider-1",
    beneficiaryId: "beneficiary-1",
    codeHash: `h1:${overrides.tokenId}`,
    issuedAtMs: T0,
    expiresAtMs: T0 + 30 * MINUTE,
    maxAttempts: 5,
    channel: "sms",
    ...overrides,
  };
}

function event(id: string, atMs: number, overrides: Partial<TokenEvent> = {}): TokenEvent {
  return { id, type: "token.issued", atMs, beneficiaryId: "beneficiary-1", ...overrides };
}

/** Hostile identifiers: quotes, colons, braces, glob and SQL characters, unicode, 1 KB. */
const HOSTILE_IDS: readonly string[] = [
  "a:b",
  "a",
  ":b",
  "{a}:b",
  "}{",
  "{",
  "}",
  "a}b{c",
  "'; DROP TABLE tokens; --",
  '"quoted" \\ back\\slash',
  "*?[glob]",
  "guia-ção-ü-日本-👩‍⚕️",
  "line\nbreak\ttab",
  "x".repeat(1024),
  "é".repeat(1024),
];

/**
 * Declares the conformance suite for a store: every rule of the {@link TokenStore} contract (save and
 * supersede, each `attempt` outcome in order, the lock at the limit, expiry at exactly `expiresAtMs`, revoke,
 * fixed-window counters, set-if-absent claims, app secrets, the event log's order and paging, purge, hostile
 * identifiers), and two races: concurrent correct attempts (exactly one `ok`) and concurrent saves with
 * attempts (never two active tokens for one guide); then the optional intent-level steps against the composed
 * form, and, with an {@link StoreConformanceOptions.interrupt} hook, each step cut mid-flight (its change and
 * its events together, or neither).
 *
 * The kit compares with {@link conformanceExpect}, whatever the runner: vitest and Jest pass their own
 * `describe` and `it` (Jest's globals need no import), `node:test` goes through {@link nodeTestRunner}.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest"; // Jest: the globals; node:test: test: nodeTestRunner(await import("node:test"))
 * import { runStoreConformance } from "health-token/testing";
 *
 * runStoreConformance({
 *   name: "MyStore",
 *   createStore: ({ namespace }) => new MyStore({ prefix: namespace }),
 *   cleanup: ({ namespace }) => dropEverything(namespace),
 *   skip: { "concurrent increments are all counted": "our backend has no atomic increment yet" },
 *   test: { describe, it },
 * });
 * ```
 */
export function runStoreConformance(options: StoreConformanceOptions): void {
  argOptions(options, "runStoreConformance");
  argOptions(options.test, "runStoreConformance (options.test: describe, it, expect)");
  if (options.interrupt !== undefined && typeof options.interrupt !== "function") {
    throw new ConfigError("runStoreConformance: options.interrupt must be a function when given");
  }
  const { test, capabilities = {} } = options;
  const expect: (actual: unknown, label?: string) => ConformanceAssertion = conformanceExpect;
  const skip = options.skip ?? {};
  const declared = new Set<string>();
  const shared = capabilities.sharedAcrossInstances !== false;
  const instances = Math.max(4, capabilities.instances ?? 4);
  const concurrentAttempts = capabilities.concurrentAttempts ?? 200;
  const concurrencyTimeoutMs = capabilities.concurrencyTimeoutMs ?? 60_000;
  const run = `${randomTag()}${(runCounter++).toString(36)}`;
  let caseCounter = 0;

  interface Harness {
    readonly store: TokenStore;
    readonly namespace: string;
    /** `count` stores sharing the namespace (the same instance when data is not shared across instances). */
    readonly stores: (count: number) => Promise<TokenStore[]>;
  }

  const it = (
    title: string,
    body: (h: Harness) => Promise<void>,
    timeoutMs?: number,
    defaultSkip?: string,
  ): void => {
    declared.add(title);
    const reason = Object.hasOwn(skip, title) ? skip[title] : defaultSkip;
    if (reason !== undefined) {
      declareSkipped(test, `${title} (skipped: ${reason})`);
      return;
    }
    test.it(
      title,
      async () => {
        const namespace = `htc_${run}_${(caseCounter++).toString(36)}`;
        try {
          const store = await options.createStore({ namespace });
          const stores = async (count: number): Promise<TokenStore[]> => {
            if (!shared) return Array.from({ length: count }, () => store);
            const more = [store];
            for (let i = 1; i < count; i++) more.push(await options.createStore({ namespace }));
            return more;
          };
          await body({ store, namespace, stores });
        } finally {
          await options.cleanup?.({ namespace });
        }
      },
      timeoutMs,
    );
  };

  const expectToken = (actual: StoredToken | undefined, expected: NewToken, rest: Partial<StoredToken>) => {
    expect(actual).toEqual({ ...expected, attempts: 0, status: "active", ...rest });
  };

  const outcomeOf = (r: AttemptResult) => r.outcome;
  const leftOf = (r: AttemptResult) => ("attemptsLeft" in r ? r.attemptsLeft : undefined);
  const tokenIdOf = (r: AttemptResult) => ("token" in r ? r.token.tokenId : undefined);

  test.describe(`TokenStore conformance: ${options.name}`, () => {
    test.describe("save, get and supersede", () => {
      it("get returns undefined for a guide that never had a token", async ({ store }) => {
        expect(await store.get("no-such-guide")).toBeUndefined();
      });

      it("save stores an active token with no attempts; get returns every field", async ({ store }) => {
        const t = token({ tokenId: "tok-1", channel: "whatsapp", maxAttempts: 3 });
        expect(await store.save(t)).toEqual({ superseded: [] });
        expectToken(await store.get(t.guideId), t, {});
      });

      it("a second save supersedes the active token and returns its id", async ({ store }) => {
        const first = token({ tokenId: "tok-1" });
        const second = token({ tokenId: "tok-2", issuedAtMs: T0 + MINUTE, expiresAtMs: T0 + 31 * MINUTE });
        await store.save(first);
        expect(await store.save(second)).toEqual({ superseded: ["tok-1"] });
        expectToken(await store.get(first.guideId), second, {});
        const old = await store.attempt({
          guideId: first.guideId,
          providerId: first.providerId,
          candidateHash: first.codeHash,
          nowMs: T0 + 2 * MINUTE,
        });
        // the old code is no second valid code: it answers superseded, against the new token
        expect(outcomeOf(old)).toBe("superseded");
        expect(tokenIdOf(old)).toBe("tok-2");
      });

      it("save over a consumed, locked or revoked token supersedes nothing", async ({ store }) => {
        const now = T0 + MINUTE;
        await store.save(token({ tokenId: "c-1", guideId: "g-consumed" }));
        await store.attempt({
          guideId: "g-consumed",
          providerId: "provider-1",
          candidateHash: "h1:c-1",
          nowMs: now,
        });
        await store.save(token({ tokenId: "l-1", guideId: "g-locked", maxAttempts: 1 }));
        await store.attempt({
          guideId: "g-locked",
          providerId: "provider-1",
          candidateHash: "h1:x",
          nowMs: now,
        });
        await store.save(token({ tokenId: "r-1", guideId: "g-revoked" }));
        await store.revoke("g-revoked", now);
        for (const guideId of ["g-consumed", "g-locked", "g-revoked"]) {
          expect(await store.save(token({ tokenId: `${guideId}-new`, guideId, issuedAtMs: now }))).toEqual({
            superseded: [],
          });
          expect((await store.get(guideId))?.status).toBe("active");
        }
      });

      it("tokens of different guides are independent", async ({ store }) => {
        await store.save(token({ tokenId: "a-1", guideId: "guide-a" }));
        expect(await store.save(token({ tokenId: "b-1", guideId: "guide-b" }))).toEqual({ superseded: [] });
        expect((await store.get("guide-a"))?.status).toBe("active");
        expect((await store.get("guide-b"))?.tokenId).toBe("b-1");
      });
    });

    test.describe("attempt: outcomes in the contract's order", () => {
      const input = (nowMs: number, over: { providerId?: string; candidateHash?: string } = {}) => ({
        guideId: "guide-1",
        providerId: over.providerId ?? "provider-1",
        candidateHash: over.candidateHash ?? "h1:tok-1",
        nowMs,
      });

      it("not_found for a guide with no token", async ({ store }) => {
        expect(await store.attempt(input(T0))).toEqual({ outcome: "not_found" });
      });

      it("ok consumes the token exactly once; later attempts see consumed", async ({ store }) => {
        const t = token({ tokenId: "tok-1" });
        await store.save(t);
        const ok = await store.attempt(input(T0 + MINUTE));
        expect(ok).toEqual({ outcome: "ok", token: { ...t, attempts: 0, status: "consumed" } });
        const again = await store.attempt(input(T0 + 2 * MINUTE));
        expect(outcomeOf(again)).toBe("consumed");
        expect((await store.get("guide-1"))?.status).toBe("consumed");
        // consumed is checked before expiry
        expect(outcomeOf(await store.attempt(input(t.expiresAtMs + 1)))).toBe("consumed");
      });

      it("mismatch counts, returns attemptsLeft and locks at the limit with attemptsLeft 0", async ({
        store,
      }) => {
        const t = token({ tokenId: "tok-1", maxAttempts: 3 });
        await store.save(t);
        const wrong = input(T0 + MINUTE, { candidateHash: "h1:wrong" });
        const r1 = await store.attempt(wrong);
        expect(r1).toEqual({
          outcome: "mismatch",
          token: { ...t, attempts: 1, status: "active" },
          attemptsLeft: 2,
        });
        expect(leftOf(await store.attempt(wrong))).toBe(1);
        const last = await store.attempt(wrong);
        expect(last).toEqual({
          outcome: "mismatch",
          token: { ...t, attempts: 3, status: "locked" },
          attemptsLeft: 0,
        });
        expect(await store.get("guide-1")).toEqual({ ...t, attempts: 3, status: "locked" });
        // the right code no longer works, and a locked token does not count further attempts
        const locked = await store.attempt(input(T0 + 2 * MINUTE));
        expect(locked).toEqual({ outcome: "locked", token: { ...t, attempts: 3, status: "locked" } });
        expect(outcomeOf(await store.attempt(wrong))).toBe("locked");
        expect((await store.get("guide-1"))?.attempts).toBe(3);
      });

      it("wrong_provider is checked before the hash, counts and locks like a mismatch", async ({ store }) => {
        const t = token({ tokenId: "tok-1", maxAttempts: 2 });
        await store.save(t);
        const r1 = await store.attempt(input(T0 + MINUTE, { providerId: "provider-2" }));
        expect(r1).toEqual({
          outcome: "wrong_provider",
          token: { ...t, attempts: 1, status: "active" },
          attemptsLeft: 1,
        });
        const r2 = await store.attempt(
          input(T0 + MINUTE, { providerId: "provider-2", candidateHash: "h1:x" }),
        );
        expect(outcomeOf(r2)).toBe("wrong_provider");
        expect(leftOf(r2)).toBe(0);
        expect((await store.get("guide-1"))?.status).toBe("locked");
        expect(outcomeOf(await store.attempt(input(T0 + MINUTE)))).toBe("locked");
      });

      it("mismatches and wrong providers share one counter", async ({ store }) => {
        await store.save(token({ tokenId: "tok-1", maxAttempts: 3 }));
        await store.attempt(input(T0 + 1, { providerId: "provider-2" }));
        expect(leftOf(await store.attempt(input(T0 + 2, { candidateHash: "h1:x" })))).toBe(1);
        expect(outcomeOf(await store.attempt(input(T0 + 3)))).toBe("ok");
      });

      it("valid 1 ms before expiresAtMs, expired at exactly expiresAtMs", async ({ store }) => {
        const a = token({ tokenId: "tok-a", guideId: "guide-a" });
        const b = token({ tokenId: "tok-b", guideId: "guide-b" });
        await store.save(a);
        await store.save(b);
        const before = await store.attempt({
          guideId: "guide-a",
          providerId: "provider-1",
          candidateHash: "h1:tok-a",
          nowMs: a.expiresAtMs - 1,
        });
        expect(outcomeOf(before)).toBe("ok");
        const at = await store.attempt({
          guideId: "guide-b",
          providerId: "provider-1",
          candidateHash: "h1:tok-b",
          nowMs: b.expiresAtMs,
        });
        expect(at).toEqual({ outcome: "expired", token: { ...b, attempts: 0, status: "active" } });
        expect(outcomeOf(await store.attempt({ ...input(b.expiresAtMs + 1), guideId: "guide-b" }))).toBe(
          "expired",
        );
      });

      it("expired is checked before locked, wrong provider and mismatch, and does not count", async ({
        store,
      }) => {
        const t = token({ tokenId: "tok-1", maxAttempts: 1 });
        await store.save(t);
        const late = t.expiresAtMs;
        expect(outcomeOf(await store.attempt(input(late, { providerId: "provider-2" })))).toBe("expired");
        expect(outcomeOf(await store.attempt(input(late, { candidateHash: "h1:x" })))).toBe("expired");
        expect((await store.get("guide-1"))?.attempts).toBe(0);
        await store.attempt(input(late - 1, { candidateHash: "h1:x" }));
        expect((await store.get("guide-1"))?.status).toBe("locked");
        expect(outcomeOf(await store.attempt(input(late)))).toBe("expired");
      });

      it("revoked is checked before expiry", async ({ store }) => {
        const t = token({ tokenId: "tok-1" });
        await store.save(t);
        await store.revoke("guide-1", T0 + MINUTE);
        const r = await store.attempt(input(T0 + 2 * MINUTE));
        expect(r).toEqual({ outcome: "revoked", token: { ...t, attempts: 0, status: "revoked" } });
        expect(outcomeOf(await store.attempt(input(t.expiresAtMs + 1)))).toBe("revoked");
      });

      it("a superseded code answers superseded until its own expiry, counts nothing, and is never ok", async ({
        store,
      }) => {
        const old = token({ tokenId: "tok-1", expiresAtMs: T0 + 10 * MINUTE });
        await store.save(old);
        const fresh = token({ tokenId: "tok-2", issuedAtMs: T0 + 5 * MINUTE, expiresAtMs: T0 + 35 * MINUTE });
        expect(await store.save(fresh)).toEqual({ superseded: ["tok-1"] });
        const late = (nowMs: number) => input(nowMs, { candidateHash: "h1:tok-1" });
        const r = await store.attempt(late(T0 + 6 * MINUTE));
        expect(r).toEqual({ outcome: "superseded", token: { ...fresh, attempts: 0, status: "active" } });
        // 1 ms before the old expiry: still superseded; at it and 1 ms past: an ordinary mismatch
        expect(outcomeOf(await store.attempt(late(old.expiresAtMs - 1)))).toBe("superseded");
        expect((await store.get("guide-1"))?.attempts).toBe(0);
        const at = await store.attempt(late(old.expiresAtMs));
        expect(outcomeOf(at)).toBe("mismatch");
        expect(leftOf(at)).toBe(4);
        expect(outcomeOf(await store.attempt(late(old.expiresAtMs + 1)))).toBe("mismatch");
        expect((await store.get("guide-1"))?.attempts).toBe(2);
        // the stored token is the new one, unchanged by the late code; the new code still works
        expect(await store.get("guide-1")).toEqual({ ...fresh, attempts: 2, status: "active" });
        expect(
          outcomeOf(await store.attempt(input(old.expiresAtMs + 2, { candidateHash: "h1:tok-2" }))),
        ).toBe("ok");
        expect(outcomeOf(await store.attempt(late(T0 + 7 * MINUTE)))).toBe("consumed");
      });

      it("superseded: after wrong_provider, only the latest superseded token, only one that was live", async ({
        store,
      }) => {
        await store.save(token({ tokenId: "tok-1" }));
        await store.save(token({ tokenId: "tok-2" }));
        const byOther = await store.attempt(
          input(T0 + 1, { providerId: "provider-2", candidateHash: "h1:tok-1" }),
        );
        expect(outcomeOf(byOther)).toBe("wrong_provider");
        await store.save(token({ tokenId: "tok-3" }));
        expect(outcomeOf(await store.attempt(input(T0 + 2, { candidateHash: "h1:tok-2" })))).toBe(
          "superseded",
        );
        expect(outcomeOf(await store.attempt(input(T0 + 3, { candidateHash: "h1:tok-1" })))).toBe("mismatch");
        // a token consumed, revoked or expired before the next save was not superseded: its code is a mismatch
        await store.attempt(input(T0 + 4, { candidateHash: "h1:tok-3" }));
        await store.save(token({ tokenId: "tok-4", issuedAtMs: T0 + 5 }));
        expect(outcomeOf(await store.attempt(input(T0 + 6, { candidateHash: "h1:tok-3" })))).toBe("mismatch");
        await store.revoke("guide-1", T0 + 7);
        await store.save(token({ tokenId: "tok-5", issuedAtMs: T0 + 8 }));
        expect(outcomeOf(await store.attempt(input(T0 + 9, { candidateHash: "h1:tok-4" })))).toBe("mismatch");
        await store.save(
          token({ tokenId: "tok-6", issuedAtMs: T0 + 30 * MINUTE, expiresAtMs: T0 + 60 * MINUTE }),
        );
        const stale = await store.attempt(input(T0 + 31 * MINUTE, { candidateHash: "h1:tok-5" }));
        expect(outcomeOf(stale)).toBe("mismatch");
      });
    });

    test.describe("revoke", () => {
      it("revokes the active token and returns it as it was", async ({ store }) => {
        const t = token({ tokenId: "tok-1" });
        await store.save(t);
        await store.attempt({
          guideId: "guide-1",
          providerId: "provider-1",
          candidateHash: "h1:x",
          nowMs: T0,
        });
        const before = await store.revoke("guide-1", T0 + MINUTE);
        expect(before).toEqual({ ...t, attempts: 1, status: "active" });
        expect((await store.get("guide-1"))?.status).toBe("revoked");
        expect(await store.revoke("guide-1", T0 + MINUTE)).toBeUndefined();
      });

      it("returns undefined for no token, a consumed, a locked or an expired token", async ({ store }) => {
        expect(await store.revoke("nothing", T0)).toBeUndefined();
        await store.save(token({ tokenId: "c", guideId: "g-c" }));
        await store.attempt({ guideId: "g-c", providerId: "provider-1", candidateHash: "h1:c", nowMs: T0 });
        expect(await store.revoke("g-c", T0)).toBeUndefined();
        expect((await store.get("g-c"))?.status).toBe("consumed");
        await store.save(token({ tokenId: "l", guideId: "g-l", maxAttempts: 1 }));
        await store.attempt({ guideId: "g-l", providerId: "provider-1", candidateHash: "h1:x", nowMs: T0 });
        expect(await store.revoke("g-l", T0)).toBeUndefined();
        expect((await store.get("g-l"))?.status).toBe("locked");
        const e = token({ tokenId: "e", guideId: "g-e" });
        await store.save(e);
        expect(await store.revoke("g-e", e.expiresAtMs)).toBeUndefined();
        expect(await store.revoke("g-e", e.expiresAtMs - 1)).toEqual({ ...e, attempts: 0, status: "active" });
      });
    });

    test.describe("fixed-window counters", () => {
      it("the window starts at the first hit and a hit at resetAtMs starts a new one", async ({ store }) => {
        const w = 10 * MINUTE;
        expect(await store.peek("sends:guide-1", T0)).toEqual({ count: 0, resetAtMs: 0 });
        expect(await store.increment("sends:guide-1", w, T0 + 5)).toEqual({
          count: 1,
          resetAtMs: T0 + 5 + w,
        });
        expect(await store.increment("sends:guide-1", w, T0 + MINUTE)).toEqual({
          count: 2,
          resetAtMs: T0 + 5 + w,
        });
        expect(await store.increment("sends:guide-1", w, T0 + 5 + w - 1)).toEqual({
          count: 3,
          resetAtMs: T0 + 5 + w,
        });
        expect(await store.peek("sends:guide-1", T0 + 5 + w - 1)).toEqual({
          count: 3,
          resetAtMs: T0 + 5 + w,
        });
        expect(await store.peek("sends:guide-1", T0 + 5 + w)).toEqual({ count: 0, resetAtMs: 0 });
        expect(await store.increment("sends:guide-1", w, T0 + 5 + w)).toEqual({
          count: 1,
          resetAtMs: T0 + 5 + 2 * w,
        });
        expect(await store.peek("sends:guide-1", T0 + 5 + w)).toEqual({
          count: 1,
          resetAtMs: T0 + 5 + 2 * w,
        });
      });

      it("keys are independent and peek changes nothing", async ({ store }) => {
        await store.increment("k:a", MINUTE, T0);
        await store.increment("k:a", MINUTE, T0);
        await store.peek("k:b", T0);
        expect(await store.increment("k:b", MINUTE, T0)).toEqual({ count: 1, resetAtMs: T0 + MINUTE });
        expect(await store.peek("k:a", T0)).toEqual({ count: 2, resetAtMs: T0 + MINUTE });
        expect(await store.peek("k:a", T0)).toEqual({ count: 2, resetAtMs: T0 + MINUTE });
      });

      it("decrement takes one hit back in the window, never below 0, and leaves a past window alone", async ({
        store,
      }) => {
        expect(await store.decrement("d", T0)).toEqual({ count: 0, resetAtMs: 0 });
        expect(await store.peek("d", T0)).toEqual({ count: 0, resetAtMs: 0 });
        await store.increment("d", MINUTE, T0);
        await store.increment("d", MINUTE, T0 + 1);
        expect(await store.decrement("d", T0 + 2)).toEqual({ count: 1, resetAtMs: T0 + MINUTE });
        expect(await store.decrement("d", T0 + 3)).toEqual({ count: 0, resetAtMs: T0 + MINUTE });
        expect(await store.decrement("d", T0 + 4)).toEqual({ count: 0, resetAtMs: T0 + MINUTE });
        // The window does not move: the next hit still ends at T0 + MINUTE.
        expect(await store.increment("d", MINUTE, T0 + 5)).toEqual({ count: 1, resetAtMs: T0 + MINUTE });
        expect(await store.decrement("d", T0 + MINUTE)).toEqual({ count: 0, resetAtMs: 0 });
        expect(await store.increment("d", MINUTE, T0 + MINUTE)).toEqual({
          count: 1,
          resetAtMs: T0 + 2 * MINUTE,
        });
      });

      it("a burst of reservations (increment, give back past the limit) keeps exactly the limit", async ({
        stores,
      }) => {
        const all = await stores(instances);
        const limit = 10;
        const granted = await Promise.all(
          Array.from({ length: 60 }, async (_, i) => {
            const s = all[i % all.length]!;
            const state = await s.increment("budget", MINUTE, T0);
            if (state.count <= limit) return true;
            await s.decrement("budget", T0);
            return false;
          }),
        );
        expect(`${granted.filter(Boolean).length} reservations granted of 60 with a limit of ${limit}`).toBe(
          `${limit} reservations granted of 60 with a limit of ${limit}`,
        );
        expect(await all[0]!.peek("budget", T0)).toEqual({ count: limit, resetAtMs: T0 + MINUTE });
      });

      it("concurrent increments are all counted", async ({ stores }) => {
        const all = await stores(instances);
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => all[i % all.length]!.increment("burst", MINUTE, T0)),
        );
        const counts = results.map((r) => r.count).sort((a, b) => a - b);
        expect(counts, "counts returned by 40 concurrent increments").toEqual(
          Array.from({ length: 40 }, (_, i) => i + 1),
        );
        expect(results.every((r) => r.resetAtMs === T0 + MINUTE)).toBe(true);
      });
    });

    test.describe("claimOnce (TOTP steps)", () => {
      it("the first claim wins until expiresAtMs; at expiresAtMs the key can be claimed again", async ({
        store,
      }) => {
        const exp = T0 + 90_000;
        expect(await store.claimOnce("totp:b1:step-100", exp, T0)).toBe(true);
        expect(await store.claimOnce("totp:b1:step-100", exp, T0 + 1)).toBe(false);
        expect(await store.claimOnce("totp:b1:step-100", exp + 5, exp - 1)).toBe(false);
        expect(await store.claimOnce("totp:b1:step-101", exp, T0)).toBe(true);
        expect(await store.claimOnce("totp:b1:step-100", exp + 90_000, exp)).toBe(true);
        expect(await store.claimOnce("totp:b1:step-100", exp + 90_000, exp + 1)).toBe(false);
      });

      it("of concurrent claims exactly one wins", async ({ stores }) => {
        const all = await stores(instances);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => all[i % all.length]!.claimOnce("race", T0 + MINUTE, T0)),
        );
        expect(results.filter((r) => r).length, "winning claims among 50 concurrent claims").toBe(1);
      });
    });

    test.describe("app secrets", () => {
      it("put, get, replace; unknown beneficiary is undefined", async ({ store }) => {
        const rec = { beneficiaryId: "b-1", keyId: "k1", ciphertext: "bm9uY2UtY2lwaGVy", createdAtMs: T0 };
        expect(await store.getAppSecret("b-1")).toBeUndefined();
        await store.putAppSecret(rec);
        expect(await store.getAppSecret("b-1")).toEqual(rec);
        const rotated = { ...rec, keyId: "k2", ciphertext: "cm90YXRlZA", createdAtMs: T0 + 1 };
        await store.putAppSecret(rotated);
        expect(await store.getAppSecret("b-1")).toEqual(rotated);
        expect(await store.getAppSecret("b-2")).toBeUndefined();
      });
    });

    test.describe("event log", () => {
      it("newest first, ties in reverse insertion order, per beneficiary; every field round-trips", async ({
        store,
      }) => {
        // Every field of an event (`Required`: a field added to TokenEvent must be added here), with an id
        // that is not the service's 16-character form.
        const full: Required<TokenEvent> = {
          id: "e-full",
          type: "token.delivered",
          atMs: T0 + 2,
          beneficiaryId: "beneficiary-1",
          guideId: "guide-1",
          providerId: "provider-1",
          tokenId: "tok-1",
          channel: "whatsapp",
          maskedContact: "(43) 9****-0001",
          recipient: "guardian",
          reason: "superseded",
          attemptsLeft: 4,
          providerFailures: 3,
          dependentId: "dependent-1",
          deliveryId: "delivery-1",
          mode: "background",
          deadlineAtMs: T0 + 60_000,
          durationMs: 250,
          providerMessageId: "wamid.HBgL-1",
          deliveryStatus: "failed",
          provider: "whatsapp",
          providerCode: "131026",
        };
        await store.appendEvent(event("e-1", T0));
        await store.appendEvent(event("e-3", T0 + 5));
        await store.appendEvent(full);
        await store.appendEvent(event("e-2a", T0 + 3));
        await store.appendEvent(event("e-2b", T0 + 3));
        await store.appendEvent(event("other", T0 + 9, { beneficiaryId: "beneficiary-2" }));
        const list = await store.listEvents("beneficiary-1", { limit: 100 });
        expect(list.map((e) => e.id)).toEqual(["e-3", "e-2b", "e-2a", "e-full", "e-1"]);
        expect(list[3], "an event with every field, read back").toEqual(full);
        expect(list[0]).toEqual(event("e-3", T0 + 5));
        expect((await store.listEvents("beneficiary-2", { limit: 10 })).map((e) => e.id)).toEqual(["other"]);
        expect(await store.listEvents("nobody", { limit: 10 })).toEqual([]);
      });

      it("pages with limit and a before cursor, without gaps or repeats", async ({ store }) => {
        for (let i = 0; i < 7; i++) await store.appendEvent(event(`e-${i}`, T0 + Math.floor(i / 2)));
        const seen: string[] = [];
        let before: string | undefined;
        for (let page = 0; page < 5; page++) {
          const got = await store.listEvents(
            "beneficiary-1",
            before === undefined ? { limit: 3 } : { limit: 3, before },
          );
          seen.push(...got.map((e) => e.id));
          if (got.length < 3) break;
          before = got[got.length - 1]!.id;
        }
        expect(seen).toEqual(["e-6", "e-5", "e-4", "e-3", "e-2", "e-1", "e-0"]);
        expect((await store.listEvents("beneficiary-1", { limit: 1, before: "e-0" })).length).toBe(0);
        expect(
          (await store.listEvents("beneficiary-1", { limit: 2, before: "e-4" })).map((e) => e.id),
        ).toEqual(["e-3", "e-2"]);
      });
    });

    test.describe("purge", () => {
      it("removes tokens expired at nowMs (any status) and keeps the others", async ({ store }) => {
        await store.save(token({ tokenId: "a", guideId: "g-a", expiresAtMs: T0 + MINUTE }));
        await store.save(token({ tokenId: "b", guideId: "g-b", expiresAtMs: T0 + MINUTE }));
        await store.attempt({ guideId: "g-b", providerId: "provider-1", candidateHash: "h1:b", nowMs: T0 });
        await store.save(token({ tokenId: "c", guideId: "g-c", expiresAtMs: T0 + MINUTE + 1 }));
        const result = await store.purge(T0 + MINUTE);
        expect(result.tokens).toBe(2);
        expect(await store.get("g-a")).toBeUndefined();
        expect(await store.get("g-b")).toBeUndefined();
        expect(
          await store.attempt({ guideId: "g-a", providerId: "provider-1", candidateHash: "h1:a", nowMs: T0 }),
        ).toEqual({ outcome: "not_found" });
        expect((await store.get("g-c"))?.tokenId).toBe("c");
        expect((await store.purge(T0 + MINUTE)).tokens).toBe(0);
      });

      it("removes counters and claims past their window", async ({ store }) => {
        await store.increment("ctr", MINUTE, T0);
        await store.claimOnce("claim", T0 + MINUTE, T0);
        await store.increment("ctr-live", 2 * MINUTE, T0);
        await store.purge(T0 + MINUTE);
        expect(await store.peek("ctr", T0 + MINUTE)).toEqual({ count: 0, resetAtMs: 0 });
        expect(await store.increment("ctr", MINUTE, T0 + MINUTE)).toEqual({
          count: 1,
          resetAtMs: T0 + 2 * MINUTE,
        });
        expect(await store.claimOnce("claim", T0 + 2 * MINUTE, T0 + MINUTE)).toBe(true);
        expect(await store.peek("ctr-live", T0 + MINUTE)).toEqual({ count: 1, resetAtMs: T0 + 2 * MINUTE });
      });

      const retention = capabilities.eventRetentionMs;
      if (retention !== undefined) {
        it("removes events older than the retention and keeps the rest", async ({ store }) => {
          const now = T0 + retention + 10 * MINUTE;
          await store.appendEvent(event("old-1", T0));
          await store.appendEvent(event("old-2", now - retention - 1, { beneficiaryId: "beneficiary-2" }));
          await store.appendEvent(event("edge", now - retention));
          const result = await store.purge(now);
          expect(result.events).toBe(2);
          await store.appendEvent(event("new", now));
          expect((await store.listEvents("beneficiary-1", { limit: 10 })).map((e) => e.id)).toEqual([
            "new",
            "edge",
          ]);
          expect(await store.listEvents("beneficiary-2", { limit: 10 })).toEqual([]);
        });
      }
    });

    test.describe("hostile identifiers", () => {
      it("quotes, colons, braces, unicode and 1 KB ids neither break nor collide", async ({ store }) => {
        for (const [i, id] of HOSTILE_IDS.entries()) {
          await store.save(
            token({
              tokenId: `t${i}-${id}`,
              guideId: id,
              providerId: id,
              beneficiaryId: id,
              codeHash: `h1:${i}`,
            }),
          );
          await store.increment(id, MINUTE, T0);
          await store.appendEvent(event(`ev-${i}`, T0 + i, { beneficiaryId: id, guideId: id }));
          expect(await store.claimOnce(id, T0 + MINUTE, T0)).toBe(true);
        }
        for (const [i, id] of HOSTILE_IDS.entries()) {
          expect((await store.get(id))?.tokenId).toBe(`t${i}-${id}`);
          expect(await store.peek(id, T0)).toEqual({ count: 1, resetAtMs: T0 + MINUTE });
          expect((await store.listEvents(id, { limit: 5 })).map((e) => e.id)).toEqual([`ev-${i}`]);
          expect(await store.claimOnce(id, T0 + MINUTE, T0)).toBe(false);
          const r = await store.attempt({ guideId: id, providerId: id, candidateHash: `h1:${i}`, nowMs: T0 });
          expect(outcomeOf(r)).toBe("ok");
        }
        expect(await store.get("a:b:")).toBeUndefined();
        expect(await store.get("{a}")).toBeUndefined();
      });

      it("the token service's exact counter and claim keys, built from hostile ids, round-trip apart", async ({
        store,
      }) => {
        // Every key below has the shape a real service sends (its own key builders); the ids are hostile, and
        // one holds the NUL that a service refuses as an id but that must not break a key either.
        const ids = [...HOSTILE_IDS.filter((id) => id.length <= 128), "x".repeat(128), "a\u0000b", "a%00b"];
        const keys = new Set<string>();
        for (const id of ids) {
          for (const key of [
            rateLimitKeys.cooldown(id),
            rateLimitKeys.sends(id),
            rateLimitKeys.failures(id),
            rateLimitKeys.providerFailures(id),
            rateLimitKeys.appAttempts(id, id),
            rateLimitKeys.appAttempts(id, "b"),
            rateLimitKeys.appAttempts("g", id),
          ]) {
            keys.add(key);
          }
        }
        let n = 0;
        for (const key of keys) {
          n++;
          for (let i = 0; i < 2; i++) await store.increment(key, MINUTE, T0);
          expect(await store.decrement(key, T0)).toEqual({ count: 1, resetAtMs: T0 + MINUTE });
          const claim = rateLimitKeys.totpStep(key, n);
          expect(await store.claimOnce(claim, T0 + MINUTE, T0)).toBe(true);
        }
        n = 0;
        for (const key of keys) {
          n++;
          expect(await store.peek(key, T0)).toEqual({ count: 1, resetAtMs: T0 + MINUTE });
          expect(await store.claimOnce(rateLimitKeys.totpStep(key, n), T0 + MINUTE, T0)).toBe(false);
        }
      });
    });

    test.describe("concurrency", () => {
      it(
        `${concurrentAttempts} concurrent correct attempts over ${shared ? instances : 1} instance(s): exactly one ok`,
        async ({ stores }) => {
          const all = await stores(instances);
          const t = token({ tokenId: "race-1", maxAttempts: 5 });
          await all[0]!.save(t);
          const results = await Promise.all(
            Array.from({ length: concurrentAttempts }, (_, i) =>
              all[i % all.length]!.attempt({
                guideId: t.guideId,
                providerId: t.providerId,
                candidateHash: t.codeHash,
                nowMs: T0 + MINUTE,
              }),
            ),
          );
          const outcomes = results.map(outcomeOf);
          const among = `among ${concurrentAttempts} concurrent correct attempts`;
          expect(outcomes.filter((o) => o === "ok").length, `ok results ${among}`).toBe(1);
          expect(outcomes.filter((o) => o === "consumed").length, `consumed results ${among}`).toBe(
            concurrentAttempts - 1,
          );
          expect((await all[all.length - 1]!.get(t.guideId))?.status, "status after the race").toBe(
            "consumed",
          );
        },
        concurrencyTimeoutMs,
      );

      it(
        "concurrent wrong attempts lock the token at exactly maxAttempts",
        async ({ stores }) => {
          const all = await stores(instances);
          const t = token({ tokenId: "race-2", maxAttempts: 5 });
          await all[0]!.save(t);
          const results = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              all[i % all.length]!.attempt({
                guideId: t.guideId,
                providerId: t.providerId,
                candidateHash: "h1:wrong",
                nowMs: T0 + MINUTE,
              }),
            ),
          );
          const mismatches = results.filter((r) => r.outcome === "mismatch");
          const among = "among 40 concurrent wrong attempts (maxAttempts 5)";
          expect(mismatches.length, `mismatch results ${among}`).toBe(5);
          expect(mismatches.map(leftOf).sort(), `attemptsLeft of the mismatches ${among}`).toEqual([
            0, 1, 2, 3, 4,
          ]);
          expect(results.filter((r) => r.outcome === "locked").length, `locked results ${among}`).toBe(35);
          expect(await all[1]!.get(t.guideId), "token after the race").toEqual({
            ...t,
            attempts: 5,
            status: "locked",
          });
        },
        concurrencyTimeoutMs,
      );

      it(
        "concurrent saves and attempts never leave two active tokens for a guide",
        async ({ stores }) => {
          const all = await stores(instances);
          const saves = 24;
          const ids = Array.from({ length: saves }, (_, i) => `gen-${i}`);
          const superseded: string[] = [];
          const oks: string[] = [];
          await Promise.all(
            ids.flatMap((id, i) => {
              const s = all[i % all.length]!;
              const a = all[(i + 1) % all.length]!;
              const t = token({ tokenId: id, guideId: "shared-guide", maxAttempts: 1000 });
              return [
                s.save(t).then((r) => void superseded.push(...r.superseded)),
                a
                  .attempt({
                    guideId: t.guideId,
                    providerId: t.providerId,
                    candidateHash: t.codeHash,
                    nowMs: T0,
                  })
                  .then((r) => {
                    if (r.outcome === "ok") oks.push(r.token.tokenId);
                  }),
              ];
            }),
          );
          const final = await all[0]!.get("shared-guide");
          const finalActive = final?.status === "active" ? [final.tokenId] : [];
          // every token ends up exactly once as: superseded, consumed by an ok, or the final active token
          const fates = [...superseded, ...oks, ...finalActive].sort();
          const fate = `tokens superseded, consumed or left active after ${saves} concurrent saves and attempts`;
          expect(fates, fate).toEqual([...ids].sort());
          expect(new Set(fates).size, `distinct ${fate}`).toBe(saves);
        },
        concurrencyTimeoutMs,
      );
    });

    test.describe("intent-level steps (optional: issueStep, verifyStep, appVerifyBegin/Finish)", () => {
      const declare: StepCaseDeclarer = (title, body, timeoutMs) => {
        it(
          title,
          async (h) => {
            const store = h.store as TokenStore & TokenStoreSteps;
            const extra: string[] = [];
            try {
              await body({
                store,
                stores: (count) => h.stores(count) as Promise<Array<TokenStore & TokenStoreSteps>>,
                other: async () => {
                  const namespace = `${h.namespace}o${extra.length}`;
                  extra.push(namespace);
                  return options.createStore({ namespace });
                },
              });
            } finally {
              for (const namespace of extra) await options.cleanup?.({ namespace });
            }
          },
          timeoutMs,
        );
      };
      declareStepCases(
        (title, body, timeoutMs) => declare(title, body, timeoutMs ?? concurrencyTimeoutMs),
        Math.min(concurrentAttempts, 100),
      );
    });

    test.describe("interrupted steps (optional: options.interrupt)", () => {
      const interrupt = options.interrupt;
      const rounds = Math.max(2, capabilities.interruptRounds ?? 8);
      const noHook =
        "no options.interrupt: the kit has no way to cut this store's connection while a step is in flight";
      const declare: InterruptCaseDeclarer = (title, body) => {
        it(
          title,
          async (h) => {
            const extra: string[] = [];
            try {
              await body({
                store: h.store as TokenStore & TokenStoreSteps,
                namespace: h.namespace,
                interrupt: interrupt!,
                rounds,
                other: async () => {
                  const namespace = `${h.namespace}i${extra.length}`;
                  extra.push(namespace);
                  return (await options.createStore({ namespace })) as TokenStore & TokenStoreSteps;
                },
              });
            } finally {
              for (const namespace of extra) await options.cleanup?.({ namespace });
            }
          },
          concurrencyTimeoutMs,
          interrupt === undefined ? noHook : undefined,
        );
      };
      declareInterruptCases(declare);
    });

    if (Object.keys(skip).length > 0) {
      test.it("every skipped case exists", async () => {
        const unknown = Object.keys(skip).filter((title) => !declared.has(title));
        expect(unknown, "skipped titles that match no case").toEqual([]);
      });
    }
  });
}

/** Declares a skipped case: with the runner's `it.skip` when it has one, else as a case that does nothing. */
function declareSkipped(test: ConformanceRunner, title: string): void {
  const skipper = (test.it as { skip?: unknown }).skip;
  if (typeof skipper === "function") {
    (skipper as ConformanceRunner["it"]).call(test.it, title, async () => {});
  } else {
    test.it(title, async () => {});
  }
}
