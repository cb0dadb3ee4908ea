/**
 * Quickstart: a real attendance on the memory defaults, narrated. `npm run demo` runs it. The attendance desk
 * owns the order of the steps (guide and token as one lifecycle); the token service delivers and verifies.
 *
 * Every step checks that the library behaved as narrated; on a surprise it prints it and exits with 1.
 */
import {
  AttendanceRefusedError,
  createAttendanceDesk,
  createTokenService,
  GuideTransitionError,
  MemoryGuideRepository,
  MemoryTokenStore,
  type PersonInput,
  renderTokenMessage,
  tokenRequiredFor,
  toTissStatus,
  toTissValidation,
} from "health-token";
import { FakeClock, OutboxNotifier } from "health-token/testing";

let step = 0;
function say(text: string): void {
  console.log(`\n${++step}. ${text}`);
}
function check(condition: boolean, surprise: string, detail?: unknown): void {
  if (!condition) {
    console.error(`\nSURPRISE at step ${step}: ${surprise}`);
    if (detail !== undefined) console.error(detail);
    process.exit(1);
  }
  console.log(`   ✓ ${surprise.replace(/^expected /, "")}`);
}

// The operator's backend. In production: a Redis or PostgreSQL store, real notifiers, the system clock, and a
// pepper of 32+ random bytes from a secret manager.
const clock = new FakeClock(Date.UTC(2026, 10, 23, 13, 0)); // 10:00 in Brasília
const outbox = new OutboxNotifier();
const tokens = createTokenService({
  store: new MemoryTokenStore(),
  notifier: outbox,
  pepper: "dEm0Pq8vZ3xR7wN1tK5jH9cB2sL6dF0gY4aU8iO3qWr=", // demo only: use openssl rand -base64 32
  clock,
  policy: { operatorName: "Plano Demo" },
});
// The token is rolled out to this clinic's contract; CLINICA-LEGADO still confirms without one.
const desk = createAttendanceDesk({
  tokens,
  guides: new MemoryGuideRepository(),
  clock,
  rollout: tokenRequiredFor(["CLINICA-042"]),
  eligibilityRequired: true,
});

// Test data: made-up people and numbers.
const maria: PersonInput = {
  id: "ben-0001",
  birthDate: "1979-03-14",
  contacts: [
    { id: "c-sms", channel: "sms", address: "(43) 99999-0001" },
    { id: "c-mail", channel: "email", address: "maria.demo@example.com" },
  ],
};
const guide = { id: "GUIA-2026-000123", providerId: "CLINICA-042" };

say("The clinic opens the consultation, checks eligibility, and the operator authorizes it:");
const guideInput = {
  id: guide.id,
  type: "consulta",
  character: "eletiva",
  beneficiary: { cardNumber: "0064000000000001" },
  provider: {
    code: guide.providerId,
    professional: { council: "CRM", number: "99999", uf: "PR", cbo: "225125" },
  },
  procedures: [{ tuss: "10101012", quantity: 1 }],
} as const;
await desk.open({
  guide: guideInput,
  beneficiaryId: maria.id,
  display: { providerName: "Clínica Demo", procedureSummary: "Consulta eletiva" },
});
try {
  await desk.requestToken({ guideId: guide.id, beneficiary: maria });
  check(false, "expected no token before authorization");
} catch (error) {
  check(
    error instanceof AttendanceRefusedError && error.reason === "not_confirmable",
    "expected no token for a guide not yet authorized",
  );
}
await desk.recordEligibility({ guideId: guide.id, eligible: true, reason: "ativo" });
let guia = (await desk.authorize({ guideId: guide.id, senha: "CO2026000123", validUntil: "2026-12-23" }))
  .guide;
console.log(`   guide ${guia.id}: ${guia.state}, TISS statusSolicitacao ${toTissStatus(guia)}`);
check(
  guia.state === "authorized" && toTissStatus(guia) === "1",
  "expected an authorized guide (TISS status 1)",
);

say("The attendant opens the guide and lists Maria's contacts (masked):");
const contacts = tokens.listContacts(maria);
for (const c of contacts) console.log(`   [${c.id}] ${c.channel.padEnd(5)} ${c.masked}`);
check(
  contacts.length === 2 &&
    contacts[0]?.masked === "(43) 9****-0001" &&
    contacts[1]?.masked === "m***@e***.com",
  "expected two masked contacts, SMS first",
  contacts,
);

say("She picks the SMS and the desk has a token issued for this guide and clinic:");
const { issued } = await desk.requestToken({ guideId: guide.id, beneficiary: maria, contactId: "c-sms" });
console.log(
  `   token ${issued.tokenId} sent by ${issued.channel} to ${issued.deliveredTo}, valid until ${new Date(issued.expiresAtMs).toISOString()}`,
);

say("What reached Maria's phone (from the outbox):");
const message = outbox.last();
console.log(
  `   to ${message?.to}: code ${message?.code}, valid ${message?.ttlSeconds} s (${message?.locale}), context`,
  message?.context,
);
check(
  message?.to === "+5543999990001" && /^\d{6}$/.test(message.code),
  "expected a 6-digit code to +5543999990001",
);
check(
  message?.context?.providerName === "Clínica Demo" && message.context.guideRef === undefined,
  "expected the SMS to name the clinic and nothing more",
);
const code = message!.code;
console.log(`   the SMS reads: "${renderTokenMessage(message!).text}"`);
check(!JSON.stringify(issued).includes(code), "expected the issue result to hold no code");

say("Maria mistypes one digit:");
const typo = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
const wrong = await desk.confirm({ guideId: guide.id, providerId: guide.providerId, code: typo });
console.log("  ", wrong);
check(
  !wrong.ok && wrong.reason === "mismatch" && wrong.attemptsLeft === 4,
  "expected mismatch with 4 attempts left",
  wrong,
);

say("Then reads it out correctly (with a space, as people do); one call verifies and confirms:");
clock.advance(40_000);
const ok = await desk.confirm({
  guideId: guide.id,
  providerId: guide.providerId,
  code: `${code.slice(0, 3)} ${code.slice(3)}`,
});
check(ok.ok, "expected the right code to confirm the guide", ok);
if (!ok.ok) process.exit(1);
guia = ok.attendance.guide;
const tiss = toTissValidation(guia);
console.log(`   guide ${guia.id}: ${guia.state}, senha ${guia.authorization?.senha},`, tiss);
check(
  guia.state === "confirmed" && tiss !== undefined && "codValidacao" in tiss && tiss.codValidacao === code,
  "expected a confirmed guide carrying the code as codValidacao",
);

say("The same code typed again (a replay):");
try {
  await desk.confirm({ guideId: guide.id, providerId: guide.providerId, code });
  check(false, "expected the replay to be refused");
} catch (error) {
  console.log(`   ${(error as Error).message}`);
  check(
    error instanceof GuideTransitionError,
    "expected the confirmed guide to refuse a second confirmation",
  );
}

say("The clinic bills the guide, once:");
guia = (await desk.bill({ guideId: guide.id, batchId: "LOTE-0001" })).guide;
check(guia.state === "billed", "expected a billed guide");
const twice = await desk.bill({ guideId: guide.id, batchId: "LOTE-0002" }).catch((e: unknown) => e);
check(twice instanceof GuideTransitionError, "expected a second bill to be refused");

/** Opens and authorizes a guide of the demo. */
async function authorized(id: string, providerId = "CLINICA-042") {
  await desk.open({ guide: { ...guideInput, id, provider: { code: providerId } }, beneficiaryId: maria.id });
  await desk.recordEligibility({ guideId: id, eligible: true });
  return desk.authorize({ guideId: id, senha: "CO2026000124", validUntil: "2026-12-23" });
}

say("Another guide: someone guesses 5 times, and the token locks:");
const guide2 = { id: "GUIA-2026-000124", providerId: "CLINICA-042" };
await authorized(guide2.id);
await desk.requestToken({ guideId: guide2.id, beneficiary: maria });
const code2 = outbox.lastCodeFor(maria.id);
const guess = String((Number(code2) + 500_000) % 1_000_000).padStart(6, "0");
for (let i = 0; i < 5; i++) {
  const r = await desk.confirm({ guideId: guide2.id, providerId: guide2.providerId, code: guess });
  console.log(`   guess ${i + 1}:`, r);
  check(
    !r.ok && r.reason === "mismatch" && r.attemptsLeft === 4 - i,
    `expected mismatch with ${4 - i} left`,
    r,
  );
}
const late = await desk.confirm({ guideId: guide2.id, providerId: guide2.providerId, code: code2 });
console.log("   the right code now:", late);
check(!late.ok && late.reason === "locked", "expected locked even for the right code", late);

say("A minor's token goes to the guardian, and shows in the guardian's history:");
const lucas: PersonInput = {
  id: "ben-0002",
  birthDate: "2015-07-01",
  contacts: [{ id: "c-kid", channel: "sms", address: "(43) 99999-0002" }],
};
const guide3 = { id: "GUIA-2026-000125", providerId: "CLINICA-042" };
await desk.open({ guide: { ...guideInput, id: guide3.id }, beneficiaryId: lucas.id });
await desk.recordEligibility({ guideId: guide3.id, eligible: true });
await desk.authorize({ guideId: guide3.id, senha: "CO2026000125", validUntil: "2026-12-23" });
const forMinor = (await desk.requestToken({ guideId: guide3.id, beneficiary: lucas, guardian: maria }))
  .issued;
console.log(`   sent to the ${forMinor.recipient} at ${forMinor.deliveredTo}`);
check(
  forMinor.recipient === "guardian" && outbox.last()?.to === "+5543999990001",
  "expected the guardian's phone",
);
const mariaSees = await tokens.history(maria.id, { limit: 10 });
check(
  mariaSees.some((e) => e.type === "token.issued" && e.dependentId === lucas.id),
  "expected Maria's history to show the code she received for Lucas",
);

say("The clinic cancels a guide: its live code dies in the same step:");
const guide4 = { id: "GUIA-2026-000126", providerId: "CLINICA-042" };
await authorized(guide4.id);
await desk.requestToken({ guideId: guide4.id, beneficiary: maria });
const code4 = outbox.lastCodeFor(maria.id);
await desk.cancel({ guideId: guide4.id });
const dead = await tokens.verify({ guideId: guide4.id, providerId: guide4.providerId, code: code4 });
console.log("  ", dead);
check(!dead.ok && dead.reason === "revoked", "expected the cancelled guide's code revoked", dead);

say("A token nobody uses expires after 30 minutes (fake clock):");
const guide5 = { id: "GUIA-2026-000127", providerId: "CLINICA-042" };
await authorized(guide5.id);
await desk.requestToken({ guideId: guide5.id, beneficiary: maria });
const code5 = outbox.lastCodeFor(maria.id);
clock.advance(30 * 60_000);
const expired = await desk.confirm({ guideId: guide5.id, providerId: guide5.providerId, code: code5 });
console.log("  ", expired);
check(!expired.ok && expired.reason === "expired", "expected expired at exactly 30 minutes", expired);

say("A clinic outside the token rollout confirms without proof (no TISS token field):");
const legacy = await authorized("GUIA-2026-000128", "CLINICA-LEGADO");
check(!legacy.tokenRequired && !legacy.canRequestToken, "expected no token for this contract");
const noProof = await desk.confirmWithoutToken({ guideId: "GUIA-2026-000128", providerId: "CLINICA-LEGADO" });
console.log(`   ${noProof.guide.state}, confirmation ${noProof.guide.confirmation?.kind}`);
check(
  toTissValidation(noProof.guide) === undefined,
  "expected neither codValidacao nor ausenciaCodValidacao",
);

say("Maria's history (newest first, contacts masked, no codes):");
const history = await tokens.history(maria.id, { limit: 100 });
for (const e of history.slice(0, 6))
  console.log(`   ${new Date(e.atMs).toISOString()} ${e.type} ${e.reason ?? ""} ${e.maskedContact ?? ""}`);
const text = JSON.stringify(history);
check(
  !text.includes(code) && !text.includes("99999-0001") && !text.includes("maria.demo"),
  "expected no code or clear contact in the history",
);

console.log("\nEvery step behaved as narrated.");

// TISS: the confirmed guide as a mensagemTISS (ENVIO_LOTE_GUIAS), valid against the ANS 4.01.00 schema.
// The operator's registration, the clinic's CNES and the value are the caller's data (made up here).
{
  const { buildMensagemTiss } = await import("health-token/tiss");
  const tissMessage = buildMensagemTiss(guia, {
    sequencialTransacao: "000001",
    registeredAtMs: clock.now(),
    numeroLote: "L000001",
    guia: {
      registroANS: "123456",
      CNES: "1234567",
      indicacaoAcidente: "9",
      regimeAtendimento: "01",
      tipoConsulta: "1",
      valorProcedimento: 150,
    },
  });
  console.log(
    `\nThe confirmed guide in TISS XML (${tissMessage.bytes.length} bytes, ISO-8859-1):\n${tissMessage.xml}`,
  );
}
