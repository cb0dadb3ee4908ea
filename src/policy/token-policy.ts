/**
 * The token policy: every rule of the token service with its default, validated with zod.
 *
 * @module
 */
import { z } from "zod";
import { hasControl, isWellFormed } from "../_internal/text.js";
import { ConfigError } from "../errors.js";

const channel = z.enum(["app", "sms", "whatsapp", "email"]);

/** A name shown in messages and authenticator apps: 1-60 characters, no CR/LF or other control character. */
const displayName = z
  .string()
  .min(1)
  .max(60)
  .refine((name) => isWellFormed(name) && !hasControl(name), {
    error: "must be well-formed text without control characters (CR, LF, …)",
  });

/**
 * A field's documentation, kept on the schema itself (`.meta`) so that `docs/policy.md`, the generated policy
 * reference (`npm run docs:policy`), and `z.toJSONSchema(tokenPolicySchema)` read it from one place.
 */
function doc(description: string, source: string): { description: string; source: string } {
  return { description, source };
}

const UNIMED = "Unimed's attendance token";
const TWILIO = "Twilio Verify's defaults";
const NIST_OOB = "NIST SP 800-63B §5.1.3.2";
const NIST_RATE = "NIST SP 800-63B §5.2.2";
const OWN = "health-token's choice";

/**
 * The zod schema of {@link TokenPolicy}; every field is optional on input and has a default. Each field
 * carries its description and its source in `.meta({ description, source })`; `docs/policy.md` is generated
 * from them.
 */
export const tokenPolicySchema = z.strictObject({
  digits: z
    .int()
    .min(4)
    .max(10)
    .default(6)
    .meta(
      doc(
        "Digits of a sent code. TISS `codValidacao` holds up to 10.",
        `${UNIMED} (6 digits); ${NIST_OOB} (at least 20 bits: 6 digits)`,
      ),
    ),
  ttlSeconds: z
    .int()
    .min(30)
    .max(86_400)
    .default(1_800)
    .meta(
      doc(
        "Time to live of a sent code, in seconds. For 10 minutes, set 600 (and `sendWindowSeconds` with it).",
        `${UNIMED} (30 minutes); ${NIST_OOB} and ${TWILIO} use 10 minutes`,
      ),
    ),
  maxAttempts: z
    .int()
    .min(1)
    .max(100)
    .default(5)
    .meta(
      doc(
        "Wrong attempts per token; the attempt that reaches it locks the token.",
        `${TWILIO} (5 check attempts)`,
      ),
    ),
  resendCooldownSeconds: z
    .int()
    .min(0)
    .max(3_600)
    .default(60)
    .meta(doc("Minimum seconds between two sends for one guide.", OWN)),
  maxSendsPerGuide: z
    .int()
    .min(1)
    .max(100)
    .default(5)
    .meta(doc("Sends per guide within `sendWindowSeconds`.", `${TWILIO} (5 sends per verification)`)),
  sendWindowSeconds: z
    .int()
    .min(1)
    .max(604_800)
    .default(1_800)
    .meta(
      doc("The window of `maxSendsPerGuide`, in seconds.", `${OWN}: one code's lifetime (\`ttlSeconds\`)`),
    ),
  maxFailuresPerBeneficiary: z
    .int()
    .min(1)
    .max(10_000)
    .default(10)
    .meta(
      doc(
        "Failed verifications (mismatch, wrong provider) per beneficiary across tokens before issuing is refused.",
        `${NIST_RATE} (at most 100 consecutive failures per account)`,
      ),
    ),
  failureWindowSeconds: z
    .int()
    .min(60)
    .max(2_592_000)
    .default(86_400)
    .meta(
      doc("The window of `maxFailuresPerBeneficiary`, in seconds.", `${NIST_RATE} (the window is ${OWN})`),
    ),
  adultAgeYears: z
    .int()
    .min(0)
    .max(30)
    .default(18)
    .meta(
      doc(
        "Age (whole years, on the clock's date) from which the beneficiary receives codes personally; younger beneficiaries' codes go to their guardian.",
        "Brazilian Civil Code, art. 5 (majority at 18)",
      ),
    ),
  utcOffsetMinutes: z
    .int()
    .min(-720)
    .max(840)
    .default(-180)
    .meta(
      doc(
        "Offset of the local date used for ages, in minutes from UTC.",
        "Brasília time, UTC−3 (no daylight saving time since 2019)",
      ),
    ),
  channelOrder: z
    .array(channel)
    .min(1)
    .refine((list) => new Set(list).size === list.length, "channels must not repeat")
    .default(["app", "sms", "whatsapp", "email"])
    .meta(
      doc(
        "Channel preference order; channels left out are never used.",
        "NIST SP 800-63B §5.1.3.3 (SMS is a restricted authenticator: the app comes first)",
      ),
    ),
  fallback: z
    .boolean()
    .default(true)
    .meta(doc("Whether a failed delivery falls back to the next contact.", OWN)),
  locale: z.enum(["pt-BR", "en"]).default("pt-BR").meta(doc("The locale of the messages.", OWN)),
  operatorName: displayName
    .optional()
    .meta(
      doc(
        "The operator's display name, passed to the notifier for the message text and used as TOTP issuer.",
        OWN,
      ),
    ),
  app: z
    .strictObject({
      stepSeconds: z
        .int()
        .min(15)
        .max(3_600)
        .default(30)
        .meta(doc("The TOTP step (period), in seconds.", "RFC 6238 §5.2 (30 seconds)")),
      windowSteps: z
        .int()
        .min(0)
        .max(3)
        .default(1)
        .meta(
          doc(
            "Steps accepted on each side of the current one, unless `pastSteps` / `futureSteps` say otherwise.",
            "RFC 6238 §5.2 (at most one step of network delay)",
          ),
        ),
      pastSteps: z
        .int()
        .min(0)
        .max(60)
        .optional()
        .meta(
          doc(
            "Earlier steps accepted (the code was read some time ago); default `windowSteps`. `stepSeconds: 300, pastSteps: 6` gives a 30-minute app code.",
            `${UNIMED} (30 minutes)`,
          ),
        ),
      futureSteps: z
        .int()
        .min(0)
        .max(3)
        .optional()
        .meta(
          doc(
            "Later steps accepted (the phone's clock runs ahead); default `windowSteps`.",
            "RFC 6238 §6 (clock drift)",
          ),
        ),
      digits: z
        .int()
        .min(6)
        .max(8)
        .default(6)
        .meta(doc("Digits of an app code.", "RFC 4226 §5.3 (at least 6); Key Uri Format (6 or 8)")),
      issuer: displayName
        .default("health-token")
        .meta(
          doc(
            "The issuer shown in authenticator apps when `operatorName` is not set.",
            "Key Uri Format (`otpauth://` issuer)",
          ),
        ),
    })
    .refine((app) => (app.pastSteps ?? app.windowSteps) + (app.futureSteps ?? app.windowSteps) + 1 <= 16, {
      error: "at most 16 steps may be accepted per code (pastSteps + futureSteps + 1)",
    })
    .prefault({})
    .meta(
      doc(
        "App mode (TOTP, RFC 6238): SHA-1, 30 s step, ±1 step, 6 digits. A code shown at any moment of step `s` is accepted until step `s + pastSteps` ends: at least `pastSteps × stepSeconds` after it appeared. For a 30-minute app code: `{ stepSeconds: 300, pastSteps: 6, futureSteps: 1 }`.",
        "RFC 6238",
      ),
    ),
});

/** The resolved policy: every rule with its value. */
export type TokenPolicy = z.output<typeof tokenPolicySchema>;

/** What callers pass: any subset of {@link TokenPolicy}. */
export type TokenPolicyInput = z.input<typeof tokenPolicySchema>;

/** The default policy: every rule at its default value. */
export const DEFAULT_POLICY: TokenPolicy = Object.freeze(tokenPolicySchema.parse({}));

/** The accepted TOTP window of the app mode, resolved from `windowSteps`, `pastSteps` and `futureSteps`. */
export interface AppWindow {
  readonly stepSeconds: number;
  readonly past: number;
  readonly future: number;
}

/**
 * The app mode's accepted window: how many earlier and later steps a code may come from.
 *
 * @example
 * ```ts
 * const w = appWindow(resolvePolicy({ app: { stepSeconds: 300, pastSteps: 6, futureSteps: 1 } }));
 * // { stepSeconds: 300, past: 6, future: 1 }: 8 codes accepted per guess, valid 30 to 35 minutes
 * ```
 */
export function appWindow(policy: TokenPolicy): AppWindow {
  const { stepSeconds, windowSteps, pastSteps, futureSteps } = policy.app;
  return { stepSeconds, past: pastSteps ?? windowSteps, future: futureSteps ?? windowSteps };
}

/**
 * Validates a policy and fills in the defaults. Throws `ConfigError` listing every bad field.
 *
 * @example
 * ```ts
 * const policy = resolvePolicy({ ttlSeconds: 600 }); // 10 minutes, NIST SP 800-63B's limit for out-of-band codes
 * ```
 */
export function resolvePolicy(input: TokenPolicyInput | undefined = {}): TokenPolicy {
  const parsed = tokenPolicySchema.safeParse(input ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "policy"}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid policy: ${detail}`, { cause: parsed.error });
  }
  return parsed.data;
}
