import { createHash } from "node:crypto";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import type { PersonInput } from "../../../src/service/delivery.js";
import { createTokenService, type TokenServiceOptions } from "../../../src/service/token-service.js";
import { FakeClock, OutboxNotifier, seededRandom } from "../../../src/testing/fakes.js";

/** A 32-byte test key derived from a label (SHA-256): random-looking, so the weak-key check accepts it. */
export function testKey(label: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(label).digest());
}

export const PEPPER = "tP4rX8vN2qK6zW0mH3jB7cL9sF1dG5yA2eR8uT6iO0w=";
export const T0 = Date.UTC(2026, 10, 23, 12); // 09:00 in Brasília
export const MIN = 60_000;

/** A CPF with valid mod-11 check digits built from 9 digits (test data, not a real person). */
export function makeCpf(base9: string): string {
  const d = base9.split("").map(Number);
  const check = (digits: number[], weight: number) => {
    const sum = digits.reduce((acc, n, i) => acc + n * (weight - i), 0);
    const r = (sum * 10) % 11;
    return r === 10 ? 0 : r;
  };
  d.push(check(d, 10));
  d.push(check(d, 11));
  return d.join("");
}

export function adult(id = "ben-1", extra: Partial<PersonInput> = {}): PersonInput {
  return {
    id,
    birthDate: "1980-05-17",
    contacts: [
      { id: "sms-1", channel: "sms", address: "(43) 99999-0001" },
      { id: "mail-1", channel: "email", address: "maria.teste@example.com" },
    ],
    ...extra,
  };
}

export function setup(over: Partial<TokenServiceOptions> = {}) {
  const clock = new FakeClock(T0);
  const outbox = new OutboxNotifier();
  const store = new MemoryTokenStore();
  const events: import("../../../src/ports/events.js").TokenEvent[] = [];
  const tokens = createTokenService({
    store,
    notifier: outbox,
    pepper: PEPPER,
    clock,
    random: seededRandom(7),
    onEvent: (e) => {
      events.push(e);
    },
    ...over,
  });
  return { clock, outbox, store, tokens, events };
}

export const guide = (id = "guide-1", providerId = "prov-1") => ({ id, providerId });
