import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import {
  ConfigError,
  DeliveryFailedError,
  HealthTokenError,
  InvalidArgumentError,
  LockedOutError,
  RateLimitedError,
  RecipientUnavailableError,
  StoreUnavailableError,
} from "../../../src/errors.js";
import type { TokenStore } from "../../../src/ports/store.js";
import { createTokenService } from "../../../src/service/token-service.js";
import { OutboxNotifier } from "../../../src/testing/fakes.js";
import { adult, guide, MIN, makeCpf, PEPPER, setup, T0 } from "./helpers.js";

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("configuration", () => {
  it("refuses a pepper shorter than 32 bytes, and accepts 32 random bytes", () => {
    const base = { store: new MemoryTokenStore(), notifier: new OutboxNotifier() };
    expect(() => createTokenService({ ...base, pepper: new Uint8Array(31) })).toThrow(ConfigError);
    const random = crypto.getRandomValues(new Uint8Array(32));
    expect(() => createTokenService({ ...base, pepper: random })).not.toThrow();
    expect(() => createTokenService({ ...base, pepper: [PEPPER, random] })).not.toThrow();
  });

  it("refuses weak peppers and secrets keys with a ConfigError that says how to make a good one", () => {
    const base = { store: new MemoryTokenStore(), notifier: new OutboxNotifier() };
    const weakBytes = [
      new Uint8Array(32),
      new Uint8Array(32).fill(0xff),
      Uint8Array.from({ length: 32 }, (_, i) => i), // a counting sequence
      Uint8Array.from({ length: 64 }, (_, i) => i % 4), // four values repeated
      new TextEncoder().encode("abcd".repeat(8)),
    ];
    const weakText = [
      "a".repeat(32),
      "0".repeat(32),
      "x".repeat(64),
      "test-pepper-0123456789abcdef-0123456789", // 39 printable characters: under 43
      "0123456789".repeat(5), // a pattern
      "abababababababababababababababababababababab",
    ];
    for (const pepper of [...weakBytes, ...weakText]) {
      const error = (() => {
        try {
          createTokenService({ ...base, pepper });
        } catch (e) {
          return e;
        }
      })() as ConfigError;
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain("openssl rand -base64 32");
      expect(error.message).not.toContain(typeof pepper === "string" ? pepper : "\u0000");
    }
    // The second pepper of a rotation is checked too; a secrets key likewise.
    expect(() => createTokenService({ ...base, pepper: [PEPPER, "a".repeat(44)] })).toThrow(ConfigError);
    for (const key of weakBytes.filter((k) => k.length === 32)) {
      expect(() => createTokenService({ ...base, pepper: PEPPER, secretsKey: key })).toThrow(/openssl rand/);
      expect(() => createTokenService({ ...base, pepper: PEPPER, secretsKey: { id: "k1", key } })).toThrow(
        ConfigError,
      );
    }
    // Real keys pass: base64 and hex from openssl, 32 random bytes.
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const b64 = Buffer.from(bytes).toString("base64");
    const hex = Buffer.from(bytes).toString("hex");
    for (const pepper of [b64, hex, bytes]) {
      expect(() => createTokenService({ ...base, pepper, secretsKey: bytes })).not.toThrow();
    }
  });

  it("weak-key check: 10,000 random 32-byte keys and their base64/hex forms all pass", () => {
    const base = { store: new MemoryTokenStore(), notifier: new OutboxNotifier() };
    for (let i = 0; i < 10_000; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      createTokenService({ ...base, pepper: [bytes, Buffer.from(bytes).toString("hex")], secretsKey: bytes });
    }
  });

  it("refuses a bad policy with ConfigError and a store without the contract", () => {
    const base = { store: new MemoryTokenStore(), notifier: new OutboxNotifier(), pepper: PEPPER };
    expect(() => createTokenService({ ...base, policy: { ttlSeconds: -1 } })).toThrow(ConfigError);
    expect(() => createTokenService({ ...base, store: {} as TokenStore })).toThrow(ConfigError);
  });
});

describe("issue", () => {
  it("delivers the code only in the message; the result holds no code", async () => {
    const { tokens, outbox } = setup();
    const issued = await tokens.issue({ guide: guide(), beneficiary: adult() });
    const message = outbox.last()!;
    expect(message.code).toMatch(/^\d{6}$/);
    expect(message.to).toBe("+5543999990001");
    expect(message.channel).toBe("sms");
    expect(message.ttlSeconds).toBe(1800);
    expect(JSON.stringify(issued)).not.toContain(message.code);
    expect(issued).toMatchObject({
      guideId: "guide-1",
      expiresAtMs: T0 + 30 * MIN,
      channel: "sms",
      recipient: "beneficiary",
      deliveredTo: "(43) 9****-0001",
    });
  });

  it("validates input with zod and changes nothing on a bad input", async () => {
    const { tokens, store, outbox } = setup();
    const bad = { ...adult(), birthDate: "1980-02-30" };
    const error = await tokens
      .issue({ guide: { id: "", providerId: "p" }, beneficiary: bad })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    const paths = (error as InvalidArgumentError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["guide.id", "beneficiary.birthDate"]));
    expect(await store.get("")).toBeUndefined();
    expect(outbox.sendCount).toBe(0);
  });

  it("refuses invalid phones and e-mails naming the field, never the address", async () => {
    const { tokens } = setup();
    const beneficiary = adult("b", {
      contacts: [
        { id: "p", channel: "sms", address: "(00) 12345-6789" },
        { id: "m", channel: "email", address: "not-an-email@" },
      ],
    });
    const error = (await tokens
      .issue({ guide: guide(), beneficiary })
      .catch((e: unknown) => e)) as InvalidArgumentError;
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.issues.map((i) => i.path)).toEqual([
      "beneficiary.contacts.0.address",
      "beneficiary.contacts.1.address",
    ]);
    expect(error.message + JSON.stringify(error.issues)).not.toContain("12345");
  });

  it("a minor's token goes to the guardian; without a guardian it is RecipientUnavailableError", async () => {
    const { tokens, outbox, clock } = setup();
    // 18th birthday tomorrow (Brasília date of the clock).
    const minor = adult("kid", {
      birthDate: "2008-11-24",
      contacts: [{ id: "k", channel: "sms", address: "43 99999-0002" }],
    });
    const guardian = adult("mom", {
      contacts: [{ id: "g", channel: "whatsapp", address: "043 9 9999 0003" }],
    });
    const issued = await tokens.issue({ guide: guide(), beneficiary: minor, guardian });
    expect(issued.recipient).toBe("guardian");
    expect(outbox.last()).toMatchObject({
      to: "+5543999990003",
      recipient: "guardian",
      beneficiaryId: "kid",
    });
    await expect(tokens.issue({ guide: guide("g2"), beneficiary: minor })).rejects.toBeInstanceOf(
      RecipientUnavailableError,
    );
    // On the birthday (local date), the beneficiary receives it personally.
    clock.set(Date.UTC(2026, 10, 24, 3)); // 00:00 in Brasília on 2026-11-24
    const grown = await tokens.issue({ guide: guide("g3"), beneficiary: minor, guardian });
    expect(grown.recipient).toBe("beneficiary");
    // 02:59 UTC is still 23:59 on the 23rd in Brasília.
    clock.set(Date.UTC(2026, 10, 24, 2, 59));
    const notYet = await tokens.issue({ guide: guide("g4"), beneficiary: minor, guardian });
    expect(notYet.recipient).toBe("guardian");
  });

  it("honors the attendant's contactId first and the channel option", async () => {
    const { tokens, outbox } = setup();
    const contacts = tokens.listContacts(adult());
    expect(contacts).toEqual([
      { id: "sms-1", channel: "sms", masked: "(43) 9****-0001", recipient: "beneficiary" },
      { id: "mail-1", channel: "email", masked: "m***@e***.com", recipient: "beneficiary" },
    ]);
    const issued = await tokens.issue({ guide: guide(), beneficiary: adult(), contactId: "mail-1" });
    expect(issued.channel).toBe("email");
    expect(outbox.last()!.to).toBe("maria.teste@example.com");
    const byChannel = await tokens.issue({ guide: guide("g2"), beneficiary: adult(), channel: "email" });
    expect(byChannel.contactId).toBe("mail-1");
    await expect(
      tokens.issue({ guide: guide("g3"), beneficiary: adult(), contactId: "nope" }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("fallback: the first channel fails, the second delivers, and the events show both", async () => {
    const { tokens, outbox, events } = setup();
    outbox.failWith((m) =>
      m.channel === "sms" ? new DeliveryFailedError("down", { providerCode: "30003" }) : undefined,
    );
    const issued = await tokens.issue({ guide: guide(), beneficiary: adult() });
    expect(issued.channel).toBe("email");
    const types = events.map((e) => [e.type, e.channel, e.maskedContact, e.reason]);
    expect(types).toEqual([
      ["token.issued", undefined, undefined, undefined],
      ["token.delivery_started", undefined, undefined, undefined],
      ["token.delivery_failed", "sms", "(43) 9****-0001", "delivery_failed:30003"],
      ["token.delivered", "email", "m***@e***.com", undefined],
    ]);
  });

  it("a failed delivery leaves no valid token and throws DeliveryFailedError with the cause", async () => {
    const { tokens, outbox, store, events } = setup();
    const cause = new DeliveryFailedError("provider down", { retryable: true });
    outbox.failWith(() => cause);
    const error = (await tokens
      .issue({ guide: guide(), beneficiary: adult() })
      .catch((e: unknown) => e)) as DeliveryFailedError;
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error.cause).toBe(cause);
    expect(error.retryable).toBe(true);
    expect((await store.get("guide-1"))?.status).toBe("revoked");
    expect(events.map((e) => e.type)).toEqual([
      "token.issued",
      "token.delivery_started",
      "token.delivery_failed",
      "token.delivery_failed",
      "token.revoked",
    ]);
    // Even the code the notifier was handed cannot verify.
    outbox.failWith(undefined);
    expect(outbox.messages.length).toBe(0);
  });

  it("a code handed to a notifier that then failed never verifies", async () => {
    const { tokens, store } = setup({
      notifier: {
        send: async (m) => {
          seen.push(m.code);
          throw new Error("socket hang up");
        },
      },
    });
    const seen: string[] = [];
    await expect(tokens.issue({ guide: guide(), beneficiary: adult() })).rejects.toBeInstanceOf(
      DeliveryFailedError,
    );
    for (const code of seen) {
      const r = await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code });
      expect(r).toEqual({ ok: false, reason: "revoked" });
    }
    expect((await store.get("guide-1"))?.status).toBe("revoked");
  });

  it("resend cooldown: 59.999 s refused with retryAfterSeconds, 60 s allowed", async () => {
    const { tokens, clock } = setup();
    await tokens.issue({ guide: guide(), beneficiary: adult() });
    clock.advance(59_999);
    const error = (await tokens
      .issue({ guide: guide(), beneficiary: adult() })
      .catch((e: unknown) => e)) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.limit).toBe("cooldown");
    expect(error.retryAfterSeconds).toBe(1);
    clock.advance(1);
    await expect(tokens.issue({ guide: guide(), beneficiary: adult() })).resolves.toMatchObject({
      guideId: "guide-1",
    });
  });

  it("at most 5 sends per guide per 30 min; the 6th is refused until the window passes", async () => {
    const { tokens, clock } = setup();
    for (let i = 0; i < 5; i++) {
      await tokens.issue({ guide: guide(), beneficiary: adult() });
      clock.advance(60_000);
    }
    // 5 minutes after the first send: 25 minutes of window left.
    const error = (await tokens
      .issue({ guide: guide(), beneficiary: adult() })
      .catch((e: unknown) => e)) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.limit).toBe("sends_per_guide");
    expect(error.retryAfterSeconds).toBe(25 * 60);
    clock.set(T0 + 30 * MIN - 1);
    await expect(tokens.issue({ guide: guide(), beneficiary: adult() })).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    clock.set(T0 + 30 * MIN);
    await expect(tokens.issue({ guide: guide(), beneficiary: adult() })).resolves.toBeDefined();
  });

  it("the 10th failure across tokens locks the beneficiary out of issuing until the 24 h window passes", async () => {
    const { tokens, outbox, clock } = setup();
    const ben = adult();
    for (let g = 0; g < 2; g++) {
      await tokens.issue({ guide: guide(`g${g}`), beneficiary: ben });
      const code = outbox.lastCodeFor(ben.id)!;
      const tries = g === 0 ? 5 : 4; // 5 mismatches lock g0; 4 on g1 → 9 failures
      for (let i = 0; i < tries; i++) {
        const r = await tokens.verify({ guideId: `g${g}`, providerId: "prov-1", code: wrong(code) });
        expect(r.ok).toBe(false);
      }
    }
    await expect(tokens.issue({ guide: guide("g2"), beneficiary: ben })).resolves.toBeDefined(); // 9 failures
    await tokens.verify({ guideId: "g2", providerId: "prov-1", code: wrong(outbox.lastCodeFor(ben.id)!) }); // 10th
    clock.advance(60_000);
    const error = (await tokens
      .issue({ guide: guide("g3"), beneficiary: ben })
      .catch((e: unknown) => e)) as LockedOutError;
    expect(error).toBeInstanceOf(LockedOutError);
    expect(error.retryAfterSeconds).toBe(24 * 3600 - 60);
    // Another beneficiary is unaffected.
    await expect(tokens.issue({ guide: guide("g4"), beneficiary: adult("ben-2") })).resolves.toBeDefined();
    clock.set(T0 + 24 * 3600_000 - 1);
    await expect(tokens.issue({ guide: guide("g5"), beneficiary: ben })).rejects.toBeInstanceOf(
      LockedOutError,
    );
    clock.set(T0 + 24 * 3600_000);
    await expect(tokens.issue({ guide: guide("g5"), beneficiary: ben })).resolves.toBeDefined();
  });
});

describe("verify", () => {
  async function issued(over: Parameters<typeof setup>[0] = {}) {
    const s = setup(over);
    await s.tokens.issue({ guide: guide(), beneficiary: adult() });
    return { ...s, code: s.outbox.lastCodeFor("ben-1")! };
  }

  it("the right code gives a receipt bound to guide, provider and beneficiary", async () => {
    const { tokens, code, clock } = await issued();
    clock.advance(1234);
    const r = await tokens.verify({
      guideId: "guide-1",
      providerId: "prov-1",
      code: ` ${code.slice(0, 3)} ${code.slice(3)} `,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.receipt).toMatchObject({
      guideId: "guide-1",
      providerId: "prov-1",
      beneficiaryId: "ben-1",
      code,
      verifiedAtMs: T0 + 1234,
      mode: "sent",
    });
    expect(await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code })).toEqual({
      ok: false,
      reason: "consumed",
    });
  });

  it("valid at TTL − 1 ms; expired at exactly the TTL", async () => {
    const a = await issued();
    a.clock.set(T0 + 30 * MIN - 1);
    expect((await a.tokens.verify({ guideId: "guide-1", providerId: "prov-1", code: a.code })).ok).toBe(true);
    const b = await issued();
    b.clock.set(T0 + 30 * MIN);
    expect(await b.tokens.verify({ guideId: "guide-1", providerId: "prov-1", code: b.code })).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it("the 5th wrong attempt locks; the right code afterwards gets locked", async () => {
    const { tokens, code, events } = await issued();
    for (let i = 1; i <= 4; i++) {
      expect(await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code: wrong(code) })).toEqual({
        ok: false,
        reason: "mismatch",
        attemptsLeft: 5 - i,
      });
    }
    expect(await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code: wrong(code) })).toEqual({
      ok: false,
      reason: "mismatch",
      attemptsLeft: 0,
    });
    expect(await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code })).toEqual({
      ok: false,
      reason: "locked",
    });
    expect(events.filter((e) => e.type === "token.locked")).toHaveLength(1);
  });

  it("malformed codes do not count; wrong_provider counts", async () => {
    const { tokens, code } = await issued();
    for (const bad of ["", "12345", "1234567", "12a456", "１２３４５６", "12-456", "x".repeat(10_000)]) {
      expect(await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code: bad })).toEqual({
        ok: false,
        reason: "malformed",
      });
    }
    expect(await tokens.verify({ guideId: "guide-1", providerId: "prov-2", code })).toEqual({
      ok: false,
      reason: "wrong_provider",
      attemptsLeft: 4,
    });
    expect(
      await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code: wrong(code) }),
    ).toMatchObject({
      attemptsLeft: 3,
    });
    expect((await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code })).ok).toBe(true);
  });

  it("wrong_provider charges the token and the presenting provider, never the beneficiary's budget", async () => {
    const { tokens, outbox, clock, events } = setup();
    const ben = adult();
    // 4 guides × 5 presentations by an intruder: 20 wrong_provider, each token locked, the beneficiary free.
    for (let g = 0; g < 4; g++) {
      await tokens.issue({ guide: guide(`wp${g}`), beneficiary: ben });
      const code = outbox.lastCodeFor(ben.id)!;
      for (let i = 0; i < 5; i++) {
        expect(await tokens.verify({ guideId: `wp${g}`, providerId: "intruder", code })).toMatchObject({
          reason: "wrong_provider",
          attemptsLeft: 4 - i,
        });
      }
      expect(await tokens.verify({ guideId: `wp${g}`, providerId: "prov-1", code })).toEqual({
        ok: false,
        reason: "locked",
      });
      clock.advance(61_000);
    }
    const counts = events
      .filter((e) => e.type === "token.rejected" && e.reason === "wrong_provider")
      .map((e) => [e.providerId, e.providerFailures]);
    expect(counts).toHaveLength(20);
    expect(counts.at(-1)).toEqual(["intruder", 20]);
    expect(new Set(counts.map(([p]) => p))).toEqual(new Set(["intruder"]));
    // The beneficiary can still get a code and confirm the attendance.
    await tokens.issue({ guide: guide("wp-ok"), beneficiary: ben });
    const code = outbox.lastCodeFor(ben.id)!;
    expect((await tokens.verify({ guideId: "wp-ok", providerId: "prov-1", code })).ok).toBe(true);
  });

  it("a code never confirms another guide", async () => {
    const { tokens, code } = await issued();
    await tokens.issue({ guide: guide("guide-2"), beneficiary: adult() });
    const r = await tokens.verify({ guideId: "guide-2", providerId: "prov-1", code });
    // Unless the two random codes collide (1e-6), the other guide's code mismatches.
    expect(r.ok).toBe(false);
    expect(await tokens.verify({ guideId: "nope", providerId: "prov-1", code })).toEqual({
      ok: false,
      reason: "not_found",
    });
  });

  it("a superseded code never verifies; the new one does", async () => {
    const { tokens, code, outbox, clock, events } = await issued();
    clock.advance(60_000);
    await tokens.issue({ guide: guide(), beneficiary: adult() });
    const fresh = outbox.lastCodeFor("ben-1")!;
    if (fresh !== code) {
      expect((await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code })).ok).toBe(false);
    }
    expect((await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code: fresh })).ok).toBe(true);
    expect(events.some((e) => e.type === "token.revoked" && e.reason === "superseded")).toBe(true);
  });

  it("1,000 concurrent verifications with the right code: exactly one ok", async () => {
    const { tokens, code } = await issued();
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => tokens.verify({ guideId: "guide-1", providerId: "prov-1", code })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === "consumed")).toHaveLength(999);
  });

  it("wrong input types are misuse (InvalidArgumentError); a store failure is StoreUnavailableError, never ok", async () => {
    const { tokens, code, store } = await issued();
    await expect(
      tokens.verify({ guideId: "guide-1", providerId: "prov-1", code: 123456 as unknown as string }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(tokens.verify(null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    const broken = Object.create(store) as MemoryTokenStore;
    broken.attempt = async () => {
      throw new Error("ECONNRESET");
    };
    const t2 = createTokenService({ store: broken, notifier: new OutboxNotifier(), pepper: PEPPER });
    await expect(t2.verify({ guideId: "guide-1", providerId: "prov-1", code })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    // The token was not consumed by the failed call.
    expect((await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code })).ok).toBe(true);
  });

  it("a throwing onEvent (sync or async) never breaks the flow", async () => {
    for (const onEvent of [
      () => {
        throw new Error("observer bug");
      },
      async () => {
        throw new Error("async observer bug");
      },
    ]) {
      const { tokens, code } = await issued({ onEvent });
      expect((await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code })).ok).toBe(true);
    }
  });

  it("pepper rotation: a code hashed under the old pepper verifies while both are configured", async () => {
    const old = "oLdPq8vZ3xR7wN1tK5jH9cB2sL6dF0gY4aU8iO3qWt=";
    const a = setup({ pepper: old });
    await a.tokens.issue({ guide: guide(), beneficiary: adult() });
    const code = a.outbox.lastCodeFor("ben-1")!;
    const rotated = createTokenService({
      store: a.store,
      notifier: a.outbox,
      pepper: [PEPPER, old],
      clock: a.clock,
    });
    expect((await rotated.verify({ guideId: "guide-1", providerId: "prov-1", code })).ok).toBe(true);
    const onlyNew = setup({ pepper: old });
    await onlyNew.tokens.issue({ guide: guide(), beneficiary: adult() });
    const code2 = onlyNew.outbox.lastCodeFor("ben-1")!;
    const dropped = createTokenService({
      store: onlyNew.store,
      notifier: onlyNew.outbox,
      pepper: PEPPER,
      clock: onlyNew.clock,
    });
    expect(await dropped.verify({ guideId: "guide-1", providerId: "prov-1", code: code2 })).toMatchObject({
      reason: "mismatch",
    });
  });
});

describe("revoke, reportUnrequested, history", () => {
  it("revoke and reportUnrequested revoke the token; the fraud event is recorded; history pages newest first", async () => {
    const { tokens, outbox, clock } = setup();
    await tokens.issue({ guide: guide(), beneficiary: adult() });
    const code = outbox.lastCodeFor("ben-1")!;
    clock.advance(1000);
    expect(await tokens.reportUnrequested({ guideId: "guide-1", beneficiaryId: "someone-else" })).toEqual({
      revoked: false,
    });
    expect((await tokens.reportUnrequested({ guideId: "guide-1", beneficiaryId: "ben-1" })).revoked).toBe(
      true,
    );
    expect(await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code })).toEqual({
      ok: false,
      reason: "revoked",
    });
    expect(await tokens.revoke({ guideId: "guide-1", reason: "cancelled" })).toEqual({ revoked: false });
    const all = await tokens.history("ben-1");
    expect(all.map((e) => e.type)).toEqual([
      "token.rejected",
      "token.reported_unrequested",
      "token.revoked",
      "token.delivered",
      "token.delivery_started",
      "token.issued",
    ]);
    const page1 = await tokens.history("ben-1", { limit: 2 });
    const page2 = await tokens.history("ben-1", { limit: 2, before: page1[1]!.id });
    expect([...page1, ...page2].map((e) => e.id)).toEqual(all.slice(0, 4).map((e) => e.id));
  });
});

describe("ids", () => {
  const BAD = ["G-\ud800", "G-\udbff", "\udc00", "G\u0000", "G\r\nX-Header: 1"];
  it("every entry point refuses an ill-formed or control-character id with InvalidArgumentError", async () => {
    const { tokens, store } = setup();
    for (const bad of BAD) {
      const calls: Array<() => Promise<unknown>> = [
        () => tokens.issue({ guide: guide(bad), beneficiary: adult() }),
        () => tokens.issue({ guide: guide("g", bad), beneficiary: adult() }),
        () => tokens.issue({ guide: guide(), beneficiary: adult(bad) }),
        () => tokens.issue({ guide: guide(), beneficiary: adult(), contactId: bad }),
        () => tokens.verify({ guideId: bad, providerId: "p", code: "123456" }),
        () => tokens.verify({ guideId: "g", providerId: bad, code: "123456" }),
        () => tokens.revoke({ guideId: bad, reason: "cancelled" }),
        () => tokens.revoke({ guideId: "g", reason: bad }),
        () => tokens.reportUnrequested({ guideId: bad, beneficiaryId: "b" }),
        () => tokens.history(bad),
        () => tokens.history("b", { before: bad }),
      ];
      for (const call of calls) await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(JSON.stringify(store.debugSnapshot())).not.toContain("\\ud8");
    // Two distinct well-formed ids stay apart (and two lone surrogates can no longer meet as U+FFFD).
    await tokens.issue({ guide: guide("G-\u{1F600}"), beneficiary: adult() });
    expect(await tokens.verify({ guideId: "G-\ufffd", providerId: "prov-1", code: "123456" })).toEqual({
      ok: false,
      reason: "not_found",
    });
  });
});

describe("privacy", () => {
  it("after issue, no plaintext code, clear contact or CPF is anywhere in the store or the events", async () => {
    const { tokens, outbox, store, events } = setup();
    const cpf = makeCpf("529982247");
    const beneficiary = { ...adult(), cpf } as ReturnType<typeof adult>;
    await tokens.issue({ guide: guide(), beneficiary });
    await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code: "000000" });
    const code = outbox.lastCodeFor("ben-1")!;
    const snapshot = store.debugSnapshot();
    const haystack = [...snapshot.strings, JSON.stringify(events)].join("\n");
    for (const secret of [code, "99999-0001", "999990001", "maria.teste", "example.com", cpf]) {
      expect(haystack).not.toContain(secret);
    }
    const ascii = new TextEncoder().encode(code);
    for (const bytes of snapshot.bytes) {
      const text = Buffer.from(bytes).toString("latin1");
      expect(text.includes(Buffer.from(ascii).toString("latin1"))).toBe(false);
    }
    expect(snapshot.strings.some((s) => s.startsWith("h1:"))).toBe(true);
  });
});

describe("property: arbitrary input", () => {
  it("issue and verify yield a result or a HealthTokenError, never anything else", async () => {
    const { tokens } = setup({ policy: { resendCooldownSeconds: 0, maxSendsPerGuide: 100 } });
    const contact = fc.record({
      id: fc.oneof(fc.string(), fc.constant("c")),
      channel: fc.oneof(fc.constantFrom("sms", "email", "whatsapp", "app"), fc.anything()),
      address: fc.oneof(fc.string(), fc.constant("(43) 99999-0001"), fc.emailAddress(), fc.anything()),
    });
    const person = fc.record({
      id: fc.oneof(fc.string(), fc.anything()),
      birthDate: fc.oneof(fc.constant("1980-01-01"), fc.constant("2015-01-01"), fc.string(), fc.anything()),
      contacts: fc.oneof(fc.array(contact, { maxLength: 4 }), fc.anything()),
    });
    const issueInput = fc.oneof(
      fc.anything(),
      fc.record(
        {
          guide: fc.oneof(fc.record({ id: fc.string(), providerId: fc.string() }), fc.anything()),
          beneficiary: person,
          guardian: person,
          contactId: fc.oneof(fc.string(), fc.anything()),
          channel: fc.anything(),
        },
        { requiredKeys: ["guide", "beneficiary"] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(issueInput, async (input) => {
        try {
          const r = await tokens.issue(input as never);
          expect(typeof r.tokenId).toBe("string");
        } catch (error) {
          expect(error).toBeInstanceOf(HealthTokenError);
        }
      }),
      { numRuns: 400 },
    );
    const verifyInput = fc.oneof(
      fc.anything(),
      fc.record({
        guideId: fc.oneof(fc.string(), fc.anything()),
        providerId: fc.oneof(fc.string(), fc.anything()),
        code: fc.oneof(fc.string(), fc.stringMatching(/^\d{6}$/), fc.anything()),
      }),
    );
    await fc.assert(
      fc.asyncProperty(verifyInput, async (input) => {
        try {
          const r = await tokens.verify(input as never);
          expect(r.ok === true || typeof r.reason === "string").toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(HealthTokenError);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe("delivery policy options", () => {
  it("fallback: false tries only the first contact; a channel left out of the order is never used", async () => {
    const { tokens, outbox } = setup({ policy: { fallback: false } });
    outbox.failNext();
    await expect(tokens.issue({ guide: guide(), beneficiary: adult() })).rejects.toBeInstanceOf(
      DeliveryFailedError,
    );
    expect(outbox.sendCount).toBe(1);
    const smsOnly = setup({ policy: { channelOrder: ["sms"] } });
    expect(smsOnly.tokens.listContacts(adult()).map((c) => c.channel)).toEqual(["sms"]);
    await expect(
      smsOnly.tokens.issue({ guide: guide(), beneficiary: adult(), channel: "email" }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("a per-channel notifier map routes each channel; a channel without a notifier is skipped", async () => {
    const sms = new OutboxNotifier();
    const email = new OutboxNotifier();
    const { tokens } = setup({ notifier: { email } });
    const issued = await tokens.issue({ guide: guide(), beneficiary: adult() });
    expect(issued.channel).toBe("email");
    expect(email.messages).toHaveLength(1);
    const both = setup({ notifier: { sms, email } });
    await both.tokens.issue({ guide: guide(), beneficiary: adult() });
    expect(sms.messages).toHaveLength(1);
  });

  it("a minor guardian is not a recipient; an adult without contacts falls back to the guardian", async () => {
    const { tokens } = setup();
    const minor = adult("kid", { birthDate: "2012-01-01" });
    const minorGuardian = adult("teen", { birthDate: "2010-01-01" });
    await expect(
      tokens.issue({ guide: guide(), beneficiary: minor, guardian: minorGuardian }),
    ).rejects.toBeInstanceOf(RecipientUnavailableError);
    const noContacts = adult("old", { contacts: [] });
    const issued = await tokens.issue({
      guide: guide("g2"),
      beneficiary: noContacts,
      guardian: adult("carer"),
    });
    expect(issued.recipient).toBe("guardian");
  });
});
