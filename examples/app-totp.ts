/**
 * App mode: the operator's app generates the token offline (TOTP, RFC 6238). The service enrolls the app
 * once (the secret is shown once and stored only encrypted), and the attendant verifies the code the
 * beneficiary reads from the app.
 *
 *   npx tsx examples/app-totp.ts
 */
import { createTokenService, MemoryTokenStore } from "health-token";
import { base32Decode, parseOtpauthUri, totp } from "health-token/otp";
import { FakeClock, OutboxNotifier } from "health-token/testing";

const clock = new FakeClock(Date.UTC(2026, 10, 23, 12, 0, 0));
const tokens = createTokenService({
  store: new MemoryTokenStore(),
  notifier: new OutboxNotifier(),
  pepper: crypto.getRandomValues(new Uint8Array(32)),
  secretsKey: { id: "k2026", key: crypto.getRandomValues(new Uint8Array(32)) },
  clock,
});

// 1. Enrollment: the app scans this URI as a QR code (or the user types the base32 secret).
const enrollment = await tokens.enrollApp({ id: "BEN-APP-1" });
const params = parseOtpauthUri(enrollment.otpauthUri);
console.log(
  `enrolled: ${params.type} ${params.digits ?? 6} digits every ${params.type === "totp" ? (params.periodSeconds ?? 30) : "-"} s`,
);

// 2. At the clinic: the app shows the current code; the beneficiary reads it to the attendant.
const secret = base32Decode(enrollment.secret);
const code = totp(secret, { timeMs: clock.now() });
const first = await tokens.verifyAppCode({
  guideId: "G-APP-1",
  providerId: "PRV-1",
  beneficiaryId: "BEN-APP-1",
  code,
});
console.log(`first use: ${first.ok ? `ok, receipt for guide ${first.receipt.guideId}` : first.reason}`);

// 3. The same code again (a replay) is refused: each time step is accepted once per beneficiary.
const replay = await tokens.verifyAppCode({
  guideId: "G-APP-2",
  providerId: "PRV-1",
  beneficiaryId: "BEN-APP-1",
  code,
});
console.log(`replay: ${replay.ok ? "ok" : replay.reason}`);

// 4. A code from two steps ago is outside the ±1 step window.
const old = totp(secret, { timeMs: clock.now() - 60_000 });
const stale = await tokens.verifyAppCode({
  guideId: "G-APP-3",
  providerId: "PRV-1",
  beneficiaryId: "BEN-APP-1",
  code: old,
});
console.log(`two steps old: ${stale.ok ? "ok" : stale.reason}`);

if (!first.ok || replay.ok || replay.reason !== "consumed" || stale.ok) {
  console.error("app-totp: unexpected outcome");
  process.exit(1);
}
