/**
 * Quickstart: a day at a clinic on the memory defaults, narrated. `npm run demo` runs it. The attendance desk
 * owns the order of the steps (guide and token as one lifecycle); the token service delivers and verifies.
 *
 * The story: an SMS code confirms a consultation, which is billed; a code goes out on every channel (SMS,
 * WhatsApp, e-mail, and the beneficiary's own app by TOTP); WhatsApp fails and the code falls back to the
 * e-mail; "I did not get it" meets the resend cooldown; a minor's code goes to the guardian; wrong guesses
 * lock a token, then the beneficiary, until the call centre resets the lockout; a beneficiary without a phone
 * is confirmed with a TISS table 74 reason and billed; a cancelled guide's code dies; an unused code expires.
 * Each step names who received the code and where (masked). A fake clock moves time, so it runs instantly.
 *
 * Every step checks that the library behaved as narrated; on a surprise it prints it and exits with 1.
 */
import {
  createAttendanceDesk,
  createTokenService,
  type IssueResult,
  isHealthTokenError,
  MemoryGuideRepository,
  MemoryTokenStore,
  type PersonInput,
  renderTokenMessage,
  tokenRequiredFor,
  toTissStatus,
  toTissValidation,
} from "health-token";
import { base32Decode, totp } from "health-token/otp";
import { FakeClock, OutboxNotifier } from "health-token/testing";
import { buildMensagemTiss } from "health-token/tiss";

// ------------------------------------------------------------------ narration helpers

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
/** Who received a code and where: `Maria (beneficiary) by sms at (43) 9****-0001`. */
function receivedBy(
  issued: IssueResult,
  names: Readonly<Record<"beneficiary" | "guardian", string>>,
): string {
  return `${names[issued.recipient]} (${issued.recipient}) by ${issued.channel} at ${issued.deliveredTo}`;
}
/** What `call` threw (the demo expects it to throw). */
async function thrown(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}

// ------------------------------------------------------------------ the operator's backend

// In production: a Redis or PostgreSQL store, real notifiers (health-token/sms, /whatsapp, /smtp), the system
// clock, and a pepper and a secrets key of 32+ random bytes from a secret manager.
const clock = FakeClock.atBrasilia("2026-11-23T10:00");
const sms = new OutboxNotifier();
const whatsapp = new OutboxNotifier();
const email = new OutboxNotifier();
const tokens = createTokenService({
  store: new MemoryTokenStore(),
  notifier: { sms, whatsapp, email }, // one per channel; the app channel is the beneficiary's TOTP app
  pepper: "dEm0Pq8vZ3xR7wN1tK5jH9cB2sL6dF0gY4aU8iO3qWr=", // demo only: use openssl rand -base64 32
  secretsKey: new TextEncoder().encode("demo-only-secrets-key:Xq7Lp2Vz9K"), // demo only: 32 random bytes
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
    { id: "c-wa", channel: "whatsapp", address: "+55 43 99999-0001" },
    { id: "c-mail", channel: "email", address: "maria.demo@example.com" },
  ],
};
const joao: PersonInput = {
  id: "ben-0003",
  birthDate: "1961-09-02",
  contacts: [
    { id: "c-wa", channel: "whatsapp", address: "(43) 99999-0003" },
    { id: "c-mail", channel: "email", address: "joao.demo@example.com" },
  ],
};
const lucas: PersonInput = {
  id: "ben-0002",
  birthDate: "2015-07-01",
  contacts: [{ id: "c-kid", channel: "sms", address: "(43) 99999-0002" }],
};
const MARIA = { beneficiary: "Maria", guardian: "Maria" } as const;
const CLINIC = "CLINICA-042";
const guideInput = {
  id: "GUIA-2026-000123",
  type: "consulta",
  character: "eletiva",
  beneficiary: { cardNumber: "0064000000000001" },
  provider: { code: CLINIC, professional: { council: "CRM", number: "99999", uf: "PR", cbo: "225125" } },
  procedures: [{ tuss: "10101012", quantity: 1 }],
} as const;
/** The caller's data for the TISS message of a consultation (made up: registration, CNES, value). */
const tissData = (sequencial: string) =>
  ({
    sequencialTransacao: sequencial,
    registeredAtMs: clock.now(),
    guia: {
      registroANS: "123456",
      CNES: "1234567",
      indicacaoAcidente: "9",
      regimeAtendimento: "01",
      tipoConsulta: "1",
      valorProcedimento: 150,
    },
  }) as const;

/** Opens and authorizes a guide of the demo, for a beneficiary. */
async function authorized(id: string, beneficiaryId: string, providerId = CLINIC) {
  await desk.open({
    guide: { ...guideInput, id, provider: { ...guideInput.provider, code: providerId } },
    beneficiaryId,
    display: { providerName: "Clínica Demo", procedureSummary: "Consulta eletiva" },
  });
  await desk.recordEligibility({ guideId: id, eligible: true, reason: "ativo" });
  return desk.authorize({ guideId: id, senha: `CO${id.slice(-6)}`, validUntil: "2026-12-23" });
}
/** A six-digit code that is not `code`. */
const wrongFor = (code: string, shift = 1) => String((Number(code) + shift) % 1_000_000).padStart(6, "0");

// ------------------------------------------------------------------ the story

say("The clinic opens Maria's consultation, checks eligibility, and the operator authorizes it:");
const guide = { id: "GUIA-2026-000123", providerId: CLINIC };
await desk.open({
  guide: guideInput,
  beneficiaryId: maria.id,
  display: { providerName: "Clínica Demo", procedureSummary: "Consulta eletiva" },
});
const early = await thrown(() => desk.requestToken({ guideId: guide.id, beneficiary: maria }));
check(
  isHealthTokenError(early, "ATTENDANCE_REFUSED") && early.reason === "not_confirmable",
  "expected no token for a guide not yet authorized",
);
await desk.recordEligibility({ guideId: guide.id, eligible: true, reason: "ativo" });
let guia = (await desk.authorize({ guideId: guide.id, senha: "CO2026000123", validUntil: "2026-12-23" }))
  .guide;
console.log(`   guide ${guia.id}: ${guia.state}, TISS statusSolicitacao ${toTissStatus(guia)}`);
check(
  guia.state === "authorized" && toTissStatus(guia) === "1",
  "expected an authorized guide (TISS status 1)",
);

say("The attendant lists Maria's contacts (masked; the clear addresses never reach the screen):");
const contacts = tokens.listContacts(maria);
for (const c of contacts) console.log(`   [${c.id}] ${c.channel.padEnd(8)} ${c.masked} (${c.recipient})`);
check(
  contacts.map((c) => `${c.channel} ${c.masked}`).join(", ") ===
    "sms (43) 9****-0001, whatsapp (43) 9****-0001, email m***@e***.com",
  "expected three masked contacts in the policy's order: SMS, WhatsApp, e-mail",
  contacts,
);

say("SMS: she picks the SMS and the desk has a code issued for this guide and clinic:");
const { issued } = await desk.requestToken({ guideId: guide.id, beneficiary: maria, contactId: "c-sms" });
console.log(`   → ${receivedBy(issued, MARIA)}, valid until ${new Date(issued.expiresAtMs).toISOString()}`);
const message = sms.last();
check(
  message?.to === "+5543999990001" && /^\d{6}$/.test(message.code),
  "expected a 6-digit code in the SMS outbox, to Maria's phone in E.164",
);
check(
  message?.context?.providerName === "Clínica Demo" && message.context.guideRef === undefined,
  "expected the SMS to name the clinic and nothing more",
);
const code = message!.code;
console.log(`   the SMS reads: "${renderTokenMessage(message!).text}"`);
check(!JSON.stringify(issued).includes(code), "expected the issue result to hold no code");

say("Maria mistypes one digit:");
const wrong = await desk.confirm({ guideId: guide.id, providerId: guide.providerId, code: wrongFor(code) });
console.log("  ", wrong);
check(
  !wrong.ok && wrong.reason === "mismatch" && wrong.attemptsLeft === 4,
  "expected mismatch, 4 left",
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
console.log(
  `   guide ${guia.id}: ${guia.state}, senha ${guia.authorization?.senha},`,
  toTissValidation(guia),
);
check(
  guia.state === "confirmed" &&
    JSON.stringify(toTissValidation(guia)) === JSON.stringify({ codValidacao: code }),
  "expected a confirmed guide carrying Maria's code as codValidacao",
);
const replay = await thrown(() => desk.confirm({ guideId: guide.id, providerId: guide.providerId, code }));
check(
  isHealthTokenError(replay, "GUIDE_TRANSITION"),
  "expected the same code again (a replay) to be refused",
);

say("The clinic bills the guide, once, and sends it to the operator as TISS XML:");
guia = (await desk.bill({ guideId: guide.id, batchId: "LOTE-0001" })).guide;
check(guia.state === "billed", "expected a billed guide");
const twice = await thrown(() => desk.bill({ guideId: guide.id, batchId: "LOTE-0002" }));
check(isHealthTokenError(twice, "GUIDE_TRANSITION"), "expected a second bill to be refused");
const billedXml = buildMensagemTiss(guia, tissData("000001"));
console.log(`   mensagemTISS ENVIO_LOTE_GUIAS, ${billedXml.bytes.length} bytes (ISO-8859-1), lote LOTE-0001`);
check(
  billedXml.xml.includes(`<ans:codValidacao>${code}</ans:codValidacao>`),
  "expected the XML to carry Maria's code as codValidacao",
);

say("WhatsApp: another guide; Maria asks for the code on WhatsApp:");
const guide2 = { id: "GUIA-2026-000124", providerId: CLINIC };
await authorized(guide2.id, maria.id);
const onWhatsApp = (await desk.requestToken({ guideId: guide2.id, beneficiary: maria, channel: "whatsapp" }))
  .issued;
console.log(`   → ${receivedBy(onWhatsApp, MARIA)}`);
check(
  onWhatsApp.channel === "whatsapp" && whatsapp.last()?.to === "+5543999990001",
  "expected the code in the WhatsApp outbox, to Maria's number",
);

say('"I did not get it": a resend right away meets the cooldown; a minute later the SAME code goes again:');
const tooSoon = await thrown(() => tokens.resend({ guide: guide2, beneficiary: maria, channel: "whatsapp" }));
check(
  isHealthTokenError(tooSoon, "RATE_LIMITED") &&
    tooSoon.limit === "cooldown" &&
    tooSoon.retryAfterSeconds === 60,
  "expected RateLimitedError (cooldown), retry after 60 s",
  tooSoon,
);
clock.advance(60_000);
const again = await tokens.resend({ guide: guide2, beneficiary: maria, channel: "whatsapp" });
console.log(`   → resent: ${again.resent}, ${receivedBy(again, MARIA)}`);
check(
  again.resent && again.tokenId === onWhatsApp.tokenId && whatsapp.messagesForGuide(guide2.id).length === 2,
  "expected the same token sent again (the late first message still works)",
);
const viaWhatsApp = await desk.confirm({
  guideId: guide2.id,
  providerId: CLINIC,
  code: whatsapp.lastCodeForGuide(guide2.id),
});
check(viaWhatsApp.ok, "expected Maria's WhatsApp code to confirm the guide", viaWhatsApp);

say("A failing channel: João's WhatsApp provider is down, and the code falls back to his e-mail:");
const guide3 = { id: "GUIA-2026-000125", providerId: CLINIC };
await authorized(guide3.id, joao.id);
whatsapp.failNext(); // the provider refuses the next message (a retryable DeliveryFailedError)
const fellBack = (await desk.requestToken({ guideId: guide3.id, beneficiary: joao, contactId: "c-wa" }))
  .issued;
const failed = whatsapp.failedSends[0];
console.log(`   ✗ WhatsApp to ${failed?.message.to} failed: ${failed?.error.message}`);
console.log(`   → ${receivedBy(fellBack, { beneficiary: "João", guardian: "?" })}`);
check(
  fellBack.channel === "email" &&
    fellBack.recipient === "beneficiary" &&
    email.last()?.to === "joao.demo@example.com",
  "expected the e-mail to João after the WhatsApp failure",
);
const joaoSees = await tokens.history(joao.id, { limit: 10 });
check(
  joaoSees.some((e) => e.type === "token.delivery_failed" && e.channel === "whatsapp") &&
    joaoSees.some((e) => e.type === "token.delivered" && e.channel === "email"),
  "expected João's history to show the failed WhatsApp try and the delivered e-mail",
);
const byEmail = await desk.confirm({
  guideId: guide3.id,
  providerId: CLINIC,
  code: email.lastCodeFor(joao.id),
});
check(byEmail.ok, "expected João's e-mailed code to confirm the guide", byEmail);

say("A minor: Lucas's code goes to his guardian Maria, and shows in her history:");
const guide4 = { id: "GUIA-2026-000126", providerId: CLINIC };
await authorized(guide4.id, lucas.id);
const forMinor = (await desk.requestToken({ guideId: guide4.id, beneficiary: lucas, guardian: maria }))
  .issued;
console.log(`   → ${receivedBy(forMinor, { beneficiary: "Lucas", guardian: "Maria" })}, for Lucas`);
check(
  forMinor.recipient === "guardian" && sms.last()?.to === "+5543999990001",
  "expected the guardian's phone, not the child's",
);
const mariaSees = await tokens.history(maria.id, { limit: 20 });
check(
  mariaSees.some((e) => e.type === "token.issued" && e.dependentId === lucas.id),
  "expected Maria's history to show the code she received for Lucas",
);

say("The app: Maria enrolls her phone's authenticator (TOTP) and reads the code it shows; nothing is sent:");
const enrollment = await tokens.enrollApp({ id: maria.id });
console.log(`   Maria (beneficiary) scans ${enrollment.otpauthUri.replace(/secret=[^&]+/, "secret=…")}`);
const guide5 = { id: "GUIA-2026-000127", providerId: CLINIC };
await authorized(guide5.id, maria.id);
const sentBefore = sms.sendCount + whatsapp.sendCount + email.sendCount;
const appCode = totp(base32Decode(enrollment.secret), { timeMs: clock.now() }); // what her app shows now
const byApp = await desk.confirm({ guideId: guide5.id, providerId: CLINIC, code: appCode, mode: "app" });
console.log(`   Maria's app shows ${appCode}: confirmed ${byApp.ok}`);
check(
  byApp.ok && sms.sendCount + whatsapp.sendCount + email.sendCount === sentBefore,
  "expected the app code to confirm the guide with no message sent",
  byApp,
);
const appAgain = await tokens.verifyAppCode({
  guideId: guide5.id,
  providerId: CLINIC,
  beneficiaryId: maria.id,
  code: appCode,
});
check(
  !appAgain.ok && appAgain.reason === "consumed",
  "expected the same app code to be refused the second time",
);

say("Someone guesses Maria's code 5 times: the token locks, even for the right code:");
const guide6 = { id: "GUIA-2026-000128", providerId: CLINIC };
await authorized(guide6.id, maria.id);
const sent6 = (await desk.requestToken({ guideId: guide6.id, beneficiary: maria })).issued;
console.log(`   → ${receivedBy(sent6, MARIA)}`);
const code6 = sms.lastCodeForGuide(guide6.id);
for (let i = 0; i < 5; i++) {
  const r = await desk.confirm({ guideId: guide6.id, providerId: CLINIC, code: wrongFor(code6, 500_000) });
  check(!r.ok && r.reason === "mismatch" && r.attemptsLeft === 4 - i, `expected mismatch, ${4 - i} left`, r);
}
const late = await desk.confirm({ guideId: guide6.id, providerId: CLINIC, code: code6 });
check(!late.ok && late.reason === "locked", "expected locked even for the right code", late);

say("More guesses on a new code reach Maria's failure limit: she is locked out of new codes:");
clock.advance(60_000);
await desk.requestToken({ guideId: guide6.id, beneficiary: maria }); // a new code for the locked guide
const code6b = sms.lastCodeForGuide(guide6.id);
let before = await tokens.limits(maria.id);
const max = before.failures.max;
for (let i = before.failures.count; i < max; i++) {
  await desk.confirm({ guideId: guide6.id, providerId: CLINIC, code: wrongFor(code6b, 250_000) });
}
clock.advance(60_000);
const locked = await thrown(() => desk.requestToken({ guideId: guide6.id, beneficiary: maria }));
check(
  isHealthTokenError(locked, "LOCKED_OUT") && locked.retryAfterSeconds > 0,
  `expected LockedOutError after ${max} failures`,
  locked,
);
before = await tokens.limits(maria.id, guide6.id);
console.log(
  `   limits: ${before.reason}, failures ${before.failures.count}/${before.failures.max}, until ${new Date(before.untilMs ?? 0).toISOString()}`,
);
check(before.reason === "locked_out" && before.failures.limited, "expected limits() to say locked_out");

say("Maria calls: it was her son mistyping. The call centre resets the lockout:");
const reset = await tokens.resetLockout(maria.id, { reason: "call_centre: son mistyped" });
const after = await tokens.limits(maria.id, guide6.id);
console.log(
  `   wasLocked ${reset.wasLocked}; limits now: failures ${after.failures.count}/${after.failures.max}`,
);
check(
  reset.wasLocked && after.reason === undefined && after.failures.count === 0,
  "expected the lockout lifted",
);
const unlocked = (await desk.requestToken({ guideId: guide6.id, beneficiary: maria })).issued;
console.log(`   → ${receivedBy(unlocked, MARIA)}`);
const afterReset = await desk.confirm({
  guideId: guide6.id,
  providerId: CLINIC,
  code: sms.lastCodeFor(maria.id),
});
check(afterReset.ok, "expected Maria's next code to confirm the guide", afterReset);

say("Table 74: Dona Ana has no mobile phone; the clinic confirms without a token, giving the TISS reason:");
const ana: PersonInput = { id: "ben-0004", birthDate: "1948-05-20", contacts: [] };
const guide7 = { id: "GUIA-2026-000129", providerId: CLINIC };
await authorized(guide7.id, ana.id);
const noContact = await thrown(() => desk.requestToken({ guideId: guide7.id, beneficiary: ana }));
check(
  isHealthTokenError(noContact, "RECIPIENT_UNAVAILABLE"),
  "expected no recipient for Ana (no contact at all)",
);
const bare = await thrown(() => desk.confirmWithoutToken({ guideId: guide7.id, providerId: CLINIC }));
check(
  isHealthTokenError(bare, "ATTENDANCE_REFUSED") && bare.reason === "token_required",
  "expected a confirmation with neither code nor reason to be refused",
);
const absent = await desk.confirmWithoutToken({
  guideId: guide7.id,
  providerId: CLINIC,
  absence: { reason: "07", justification: "Beneficiária sem celular; identidade conferida no balcão" },
});
console.log(`   Ana (beneficiary): ${absent.guide.state}, confirmation ${absent.guide.confirmation?.kind}`);
check(
  JSON.stringify(toTissValidation(absent.guide)) === JSON.stringify({ ausenciaCodValidacao: "07" }),
  "expected ausenciaCodValidacao 07 (Beneficiário não possui celular)",
);
const anaBilled = (await desk.bill({ guideId: guide7.id, batchId: "LOTE-0002" })).guide;
const anaXml = buildMensagemTiss(anaBilled, tissData("000002"));
check(
  anaBilled.state === "billed" &&
    anaXml.xml.includes("<ans:ausenciaCodValidacao>07</ans:ausenciaCodValidacao>"),
  "expected Ana's guide billed, its TISS XML carrying ausenciaCodValidacao 07",
);

say("A clinic outside the token rollout confirms Maria without proof (no TISS token field):");
const legacy = await authorized("GUIA-2026-000130", maria.id, "CLINICA-LEGADO");
check(!legacy.tokenRequired && !legacy.canRequestToken, "expected no token for this contract");
const noProof = await desk.confirmWithoutToken({ guideId: "GUIA-2026-000130", providerId: "CLINICA-LEGADO" });
console.log(
  `   Maria (beneficiary): ${noProof.guide.state}, confirmation ${noProof.guide.confirmation?.kind}`,
);
check(
  toTissValidation(noProof.guide) === undefined,
  "expected neither codValidacao nor ausenciaCodValidacao",
);

say("The clinic cancels a guide: Maria's live code dies in the same step:");
const guide8 = { id: "GUIA-2026-000131", providerId: CLINIC };
await authorized(guide8.id, maria.id);
clock.advance(60_000);
const sent8 = (await desk.requestToken({ guideId: guide8.id, beneficiary: maria, contactId: "c-mail" }))
  .issued;
console.log(`   → ${receivedBy(sent8, MARIA)}`);
await desk.cancel({ guideId: guide8.id });
const dead = await tokens.verify({
  guideId: guide8.id,
  providerId: CLINIC,
  code: email.lastCodeFor(maria.id),
});
check(!dead.ok && dead.reason === "revoked", "expected the cancelled guide's code revoked", dead);

say("A code nobody uses expires after 30 minutes (fake clock):");
const guide9 = { id: "GUIA-2026-000132", providerId: CLINIC };
await authorized(guide9.id, maria.id);
const sent9 = (await desk.requestToken({ guideId: guide9.id, beneficiary: maria })).issued;
console.log(`   → ${receivedBy(sent9, MARIA)}`);
clock.advance(30 * 60_000);
const expired = await desk.confirm({
  guideId: guide9.id,
  providerId: CLINIC,
  code: sms.lastCodeFor(maria.id),
});
check(!expired.ok && expired.reason === "expired", "expected expired at exactly 30 minutes", expired);

say("Maria's history (newest first, contacts masked, no codes):");
const history = await tokens.history(maria.id, { limit: 100 });
for (const e of history.slice(0, 8)) {
  console.log(`   ${new Date(e.atMs).toISOString()} ${e.type} ${e.reason ?? ""} ${e.maskedContact ?? ""}`);
}
const text = JSON.stringify(history);
check(
  history.some((e) => e.type === "lockout.reset") &&
    !text.includes(code) &&
    !text.includes("99999-0001") &&
    !text.includes("maria.demo"),
  "expected the lockout reset recorded, and no code or clear contact in the history",
);

console.log("\nEvery step behaved as narrated.");
console.log(`\nMaria's consultation in TISS XML (valid against the ANS 4.01.00 schema):\n${billedXml.xml}`);
