/**
 * The attendance desk over the memory token store, a fake clock and an outbox, for the desk's suites.
 */
import {
  type AttendanceDeskOptions,
  createAttendanceDesk,
  createTokenService,
  type GuideInput,
  type GuideRepository,
  MemoryGuideRepository,
  MemoryTokenStore,
  type PersonInput,
  type TokenServiceOptions,
  type TokenStore,
} from "../../src/index.js";
import { FakeClock, OutboxNotifier } from "../../src/testing/index.js";
import { testPepper } from "./keys.js";

/** 2026-11-23 10:00 in São Paulo. */
export const DESK_T0 = Date.UTC(2026, 10, 23, 13, 0, 0);

/** Options of {@link deskFixture}. */
export interface DeskFixtureOptions extends Partial<Omit<AttendanceDeskOptions, "tokens" | "clock">> {
  readonly guides?: GuideRepository;
  readonly store?: TokenStore;
  readonly service?: Partial<Omit<TokenServiceOptions, "store" | "notifier" | "pepper" | "clock">>;
}

/** A desk, its token service, store, repository, clock and outbox. */
export function deskFixture(options: DeskFixtureOptions = {}) {
  const clock = new FakeClock(DESK_T0);
  const outbox = new OutboxNotifier();
  const store = options.store ?? new MemoryTokenStore();
  const tokens = createTokenService({
    store,
    notifier: outbox,
    pepper: testPepper("d"),
    clock,
    ...options.service,
  });
  const { service: _service, store: _store, ...deskOptions } = options;
  const guides = options.guides ?? new MemoryGuideRepository();
  const desk = createAttendanceDesk({ ...deskOptions, tokens, guides, clock });
  return { clock, outbox, store, tokens, guides, desk };
}

/** A made-up guide input: one procedure, no professional (the TISS fields are not under test here). */
export function guideInput(id: string, over: Partial<GuideInput> = {}): GuideInput {
  return {
    id,
    type: "consulta",
    character: "eletiva",
    beneficiary: { cardNumber: "0064000012345678" },
    provider: { code: "PRV-1" },
    procedures: [{ tuss: "10101012", quantity: 1 }],
    ...over,
  };
}

/** A made-up adult beneficiary with an SMS contact. */
export function adult(id = "BEN-1", channel: "sms" | "whatsapp" | "email" | "app" = "sms"): PersonInput {
  const address =
    channel === "email"
      ? `pessoa.${id.toLowerCase()}@example.com`
      : channel === "app"
        ? `device-${id}`
        : "(43) 99999-0001";
  return { id, birthDate: "1985-02-10", contacts: [{ id: `${channel}-1`, channel, address }] };
}
