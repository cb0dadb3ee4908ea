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

/** The zod schema of {@link TokenPolicy}; every field is optional on input and has a default. */
export const tokenPolicySchema = z.strictObject({
  /** Digits of a sent code (TISS `codValidacao` holds up to 10). */
  digits: z.int().min(4).max(10).default(6),
  /** Time to live of a sent code, in seconds (30 min: Unimed's practice; NIST/ASVS recommend 10 min). */
  ttlSeconds: z.int().min(30).max(86_400).default(1_800),
  /** Wrong attempts per token; the attempt that reaches it locks the token. */
  maxAttempts: z.int().min(1).max(100).default(5),
  /** Minimum seconds between two sends for one guide. */
  resendCooldownSeconds: z.int().min(0).max(3_600).default(60),
  /** Sends per guide within `sendWindowSeconds`. */
  maxSendsPerGuide: z.int().min(1).max(100).default(5),
  /** The window of `maxSendsPerGuide`, in seconds. */
  sendWindowSeconds: z.int().min(1).max(604_800).default(1_800),
  /** Failed verifications (mismatch, wrong provider) per beneficiary across tokens before issuing is refused. */
  maxFailuresPerBeneficiary: z.int().min(1).max(10_000).default(10),
  /** The window of `maxFailuresPerBeneficiary`, in seconds. */
  failureWindowSeconds: z.int().min(60).max(2_592_000).default(86_400),
  /** Age (whole years, on the clock's date) from which the beneficiary receives codes personally. */
  adultAgeYears: z.int().min(0).max(30).default(18),
  /** Offset of the local date used for ages, in minutes from UTC (Brasília time: −180). */
  utcOffsetMinutes: z.int().min(-720).max(840).default(-180),
  /** Channel preference order; channels left out are never used. */
  channelOrder: z
    .array(channel)
    .min(1)
    .refine((list) => new Set(list).size === list.length, "channels must not repeat")
    .default(["app", "sms", "whatsapp", "email"]),
  /** Whether a failed delivery falls back to the next contact. */
  fallback: z.boolean().default(true),
  /** The locale of the messages. */
  locale: z.enum(["pt-BR", "en"]).default("pt-BR"),
  /** The operator's display name, passed to the notifier for the message text and used as TOTP issuer. */
  operatorName: displayName.optional(),
  /**
   * App mode (TOTP, RFC 6238): SHA-1, 30 s step, ±1 step, 6 digits. A code shown at any moment of step `s` is
   * accepted until step `s + pastSteps` ends: at least `pastSteps × stepSeconds` after it appeared. For a
   * 30-minute app code (Unimed's practice): `{ stepSeconds: 300, pastSteps: 6, futureSteps: 1 }`.
   */
  app: z
    .strictObject({
      /** The TOTP step (period), in seconds. */
      stepSeconds: z.int().min(15).max(3_600).default(30),
      /** Steps accepted on each side of the current one, unless `pastSteps` / `futureSteps` say otherwise. */
      windowSteps: z.int().min(0).max(3).default(1),
      /** Earlier steps accepted (the code was read some time ago); default `windowSteps`. */
      pastSteps: z.int().min(0).max(60).optional(),
      /** Later steps accepted (the phone's clock runs ahead); default `windowSteps`. */
      futureSteps: z.int().min(0).max(3).optional(),
      digits: z.int().min(6).max(8).default(6),
      issuer: displayName.default("health-token"),
    })
    .refine((app) => (app.pastSteps ?? app.windowSteps) + (app.futureSteps ?? app.windowSteps) + 1 <= 16, {
      error: "at most 16 steps may be accepted per code (pastSteps + futureSteps + 1)",
    })
    .prefault({}),
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
 * const policy = resolvePolicy({ ttlSeconds: 600 }); // 10 minutes, as NIST SP 800-63B recommends
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
