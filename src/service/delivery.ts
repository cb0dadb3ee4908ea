/**
 * Delivery policy: who receives a code (the beneficiary when adult and holding a contact on the channel,
 * otherwise the guardian), on which contact (the attendant's `contactId` first, then the channel preference
 * order), and the fallback to the next contact when a notifier fails. Every try becomes an event.
 *
 * @module
 */
import { maskContact, normalizeContactAddress } from "../contacts.js";
import {
  DeliveryFailedError,
  HealthTokenError,
  InvalidArgumentError,
  RecipientUnavailableError,
} from "../errors.js";
import type { TokenPolicy } from "../policy/token-policy.js";
import type { Channel, DeliveryReceipt, Notifier, SendOptions, TokenMessage } from "../ports/notifier.js";
import type { AbortLatch } from "./_abort-latch.js";

/** One contact of a person: a channel and its address. */
export interface ContactInput {
  /** Stable id of the contact (chosen by the attendant from {@link ContactChoice}). */
  readonly id: string;
  /** Its channel. */
  readonly channel: Channel;
  /** Phone (any usual Brazilian format; stored nowhere), e-mail, or the app's device/user id. */
  readonly address: string;
}

/** A beneficiary or a guardian, as the service receives them. Extra fields are ignored. */
export interface PersonInput {
  /** Opaque id (never a CPF or card number). */
  readonly id: string;
  /** `YYYY-MM-DD`. */
  readonly birthDate: string;
  /** Contacts, at most 20. */
  readonly contacts: readonly ContactInput[];
}

/** A contact offered to the attendant: never the clear address. */
export interface ContactChoice {
  /** The contact's id, to pass as `contactId` to `issue`. */
  readonly id: string;
  /** Its channel. */
  readonly channel: Channel;
  /** The masked address: `(43) 9****-1234`, `j***@e***.com`, `app ****ab12`. */
  readonly masked: string;
  /** Whose contact it is. */
  readonly recipient: "beneficiary" | "guardian";
}

/** Where one delivery try goes (internal). */
export interface DeliveryTarget {
  readonly contactId: string;
  readonly channel: Channel;
  readonly address: string;
  readonly masked: string;
  readonly recipient: "beneficiary" | "guardian";
}

/** Notifiers by channel; a channel left out (or `undefined`) has none. */
export type ChannelNotifiers = { readonly [C in Channel]?: Notifier | undefined };

/** One notifier for every channel, or one per channel. */
export type NotifierOption = Notifier | ChannelNotifiers;

/** Resolves the notifier of a channel (internal). */
export function notifierFor(option: NotifierOption, channel: Channel): Notifier | undefined {
  if (typeof (option as Notifier).send === "function") return option as Notifier;
  const notifier = (option as ChannelNotifiers)[channel];
  return notifier && typeof notifier.send === "function" ? notifier : undefined;
}

/** Whole years between `birthDate` (YYYY-MM-DD) and the local date of `nowMs` (29 Feb birthdays count on 1 Mar). */
export function ageInYears(birthDate: string, nowMs: number, utcOffsetMinutes: number): number {
  const today = new Date(nowMs + utcOffsetMinutes * 60_000);
  const y = today.getUTCFullYear();
  const m = today.getUTCMonth() + 1;
  const d = today.getUTCDate();
  const by = Number(birthDate.slice(0, 4));
  const bm = Number(birthDate.slice(5, 7));
  const bd = Number(birthDate.slice(8, 10));
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

interface Normalized {
  readonly id: string;
  readonly channel: Channel;
  readonly address: string;
}

/** Why an address is not valid for its channel (never the address itself). */
export function addressProblem(channel: Channel): string {
  return channel === "email"
    ? "not a valid e-mail address"
    : channel === "app"
      ? "not a valid app id"
      : channel === "sms"
        ? "not a valid mobile phone number"
        : "not a valid phone number";
}

/** Joins an issue path: `("", "contacts.0")` → `contacts.0`, `("guardian", "contacts.0")` → `guardian.contacts.0`. */
const joinPath = (prefix: string, rest: string) => (prefix === "" ? rest : `${prefix}.${rest}`);

/**
 * Checks and normalizes a person's contacts: one issue per duplicate id or invalid address, with its path under
 * `path` (never the address). Shared by the service and `parsePerson`.
 */
export function checkContacts(
  contacts: readonly ContactInput[],
  path: string,
): { readonly normalized: Normalized[]; readonly issues: { path: string; message: string }[] } {
  const issues: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  const normalized: Normalized[] = [];
  contacts.forEach((contact, i) => {
    if (seen.has(contact.id))
      issues.push({ path: joinPath(path, `contacts.${i}.id`), message: "duplicate contact id" });
    seen.add(contact.id);
    const address = normalizeContactAddress(contact.channel, contact.address);
    if (address === undefined) {
      issues.push({
        path: joinPath(path, `contacts.${i}.address`),
        message: addressProblem(contact.channel),
      });
    } else normalized.push({ id: contact.id, channel: contact.channel, address });
  });
  return { normalized, issues };
}

/**
 * Validates and normalizes every contact of a person; throws `InvalidArgumentError` with one issue per bad
 * contact (the path, never the address).
 */
export function normalizeContacts(person: PersonInput, path: string): Normalized[] {
  const { normalized, issues } = checkContacts(person.contacts, path);
  if (issues.length > 0) throw new InvalidArgumentError("invalid contact", issues);
  return normalized;
}

/**
 * Every contact the code may go to, in preference order: for each channel of the policy's order that has a
 * notifier, the beneficiary's contacts on it when the beneficiary is adult and has one, otherwise the adult
 * guardian's contacts on it.
 */
export function eligibleTargets(
  policy: TokenPolicy,
  notifiers: NotifierOption,
  beneficiary: PersonInput,
  guardian: PersonInput | undefined,
  nowMs: number,
): DeliveryTarget[] {
  const adult = ageInYears(beneficiary.birthDate, nowMs, policy.utcOffsetMinutes) >= policy.adultAgeYears;
  const own = adult ? normalizeContacts(beneficiary, "beneficiary") : [];
  const guardianAdult =
    guardian !== undefined &&
    ageInYears(guardian.birthDate, nowMs, policy.utcOffsetMinutes) >= policy.adultAgeYears;
  const theirs = guardianAdult ? normalizeContacts(guardian, "guardian") : [];
  const targets: DeliveryTarget[] = [];
  for (const channel of policy.channelOrder) {
    if (!notifierFor(notifiers, channel)) continue;
    const mine = own.filter((c) => c.channel === channel);
    const list = mine.length > 0 ? mine : theirs.filter((c) => c.channel === channel);
    const recipient = mine.length > 0 ? "beneficiary" : "guardian";
    for (const c of list) {
      targets.push({
        contactId: c.id,
        channel,
        address: c.address,
        masked: maskContact(channel, c.address),
        recipient,
      });
    }
  }
  return targets;
}

/**
 * The tries of one issue, in order: the attendant's `contactId` first (or only the contacts of the requested
 * `channel`), then the rest when the policy allows fallback.
 */
export function planDelivery(
  policy: TokenPolicy,
  notifiers: NotifierOption,
  input: {
    readonly beneficiary: PersonInput;
    readonly guardian?: PersonInput | undefined;
    readonly contactId?: string | undefined;
    readonly channel?: Channel | undefined;
  },
  nowMs: number,
): DeliveryTarget[] {
  if (input.channel !== undefined && !policy.channelOrder.includes(input.channel)) {
    throw new InvalidArgumentError("channel not enabled by the policy", [
      { path: "channel", message: "channel not enabled by the policy" },
    ]);
  }
  let targets = eligibleTargets(policy, notifiers, input.beneficiary, input.guardian, nowMs);
  if (input.channel !== undefined) targets = targets.filter((t) => t.channel === input.channel);
  if (input.contactId !== undefined) {
    const chosen = targets.find((t) => t.contactId === input.contactId);
    if (chosen === undefined) {
      const known =
        input.beneficiary.contacts.some((c) => c.id === input.contactId) ||
        (input.guardian?.contacts.some((c) => c.id === input.contactId) ?? false);
      if (known) {
        throw new RecipientUnavailableError(
          "the chosen contact cannot receive the code (a minor's contact, a channel without a notifier, or not the requested channel)",
        );
      }
      throw new InvalidArgumentError("unknown contactId", [
        { path: "contactId", message: "unknown contact id" },
      ]);
    }
    targets = [chosen, ...targets.filter((t) => t !== chosen)];
  }
  if (targets.length === 0) {
    throw new RecipientUnavailableError(
      "no adult recipient with a contact on an enabled channel (the beneficiary is a minor or has no such contact, and no adult guardian has one)",
    );
  }
  return policy.fallback ? targets : targets.slice(0, 1);
}

/** What happened to one try. `durationMs` is measured on the service's clock. */
export type DeliveryTry =
  | {
      readonly target: DeliveryTarget;
      readonly ok: true;
      readonly durationMs: number;
      readonly providerMessageId?: string;
    }
  | {
      readonly target: DeliveryTarget;
      readonly ok: false;
      readonly error: unknown;
      readonly durationMs: number;
    };

/** The target that delivered, and the provider's message id when it gave one. */
export interface Delivered {
  readonly target: DeliveryTarget;
  readonly providerMessageId?: string;
}

/** How one delivery run is bounded (internal). */
export interface DeliverControl {
  /** Aborted at the run's deadline or by the caller: the try in flight is abandoned, no further try starts. */
  readonly signal: AbortLatch;
  /** Reads the service's clock (for the durations). */
  readonly now: () => number;
  /** The opaque reference the provider may echo in its status callbacks. */
  readonly reference?: string;
}

/** The error of a try the deadline (or the caller) cut short. */
function abortedError(signal: AbortLatch): DeliveryFailedError {
  const deadline = (signal.reason as { name?: unknown } | undefined)?.name === "TimeoutError";
  return new DeliveryFailedError(
    deadline ? "the delivery deadline passed" : "the delivery was cancelled by the caller",
    { providerCode: deadline ? "deadline" : "aborted", retryable: true, cause: signal.reason },
  );
}

/**
 * Runs one `send`, settling at the latest when `signal` aborts. A notifier that ignores the signal keeps
 * running, but its late answer (or late rejection) is observed and dropped: it can neither hold the delivery
 * nor surface as an unhandled rejection.
 */
function sendWithin(
  notifier: Notifier,
  message: TokenMessage,
  options: SendOptions,
  signal: AbortLatch,
): Promise<DeliveryReceipt | undefined> {
  if (signal.aborted) return Promise.reject(abortedError(signal));
  let sent: Promise<DeliveryReceipt | undefined>;
  try {
    sent = Promise.resolve(notifier.send(message, options));
  } catch (error) {
    sent = Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    const off = signal.onAbort(() => reject(abortedError(signal)));
    sent.then(
      (receipt) => {
        off();
        resolve(receipt);
      },
      (error: unknown) => {
        off();
        reject(error);
      },
    );
  });
}

/**
 * Sends to each target in turn until one notifier accepts; calls `onTry` after every try (for the events).
 * Stops at the control's signal (deadline or cancel): the try in flight counts as failed (`deadline` or
 * `aborted`) and no further target is tried. Returns the target that delivered, or throws
 * `DeliveryFailedError` (cause: the last error) when none did.
 */
export async function deliver(
  notifiers: NotifierOption,
  targets: readonly DeliveryTarget[],
  message: (target: DeliveryTarget) => TokenMessage,
  onTry: (outcome: DeliveryTry) => Promise<void>,
  control: DeliverControl,
): Promise<Delivered> {
  let lastError: unknown;
  let retryable = false;
  let tries = 0;
  const { signal, now } = control;
  // The notifier's AbortSignal is made only if it reads it.
  const sendOptions: SendOptions =
    control.reference === undefined
      ? {
          get signal() {
            return signal.signal;
          },
        }
      : {
          get signal() {
            return signal.signal;
          },
          reference: control.reference,
        };
  for (const target of targets) {
    if (signal.aborted && tries > 0) break;
    tries++;
    const notifier = notifierFor(notifiers, target.channel)!;
    const startedAt = now();
    let error: unknown;
    let receipt: DeliveryReceipt | undefined;
    let ok = false;
    try {
      receipt = await sendWithin(notifier, message(target), sendOptions, signal);
      ok = true;
    } catch (caught) {
      error = caught;
    }
    const durationMs = Math.max(0, now() - startedAt);
    if (ok) {
      const id = receipt?.providerMessageId;
      const providerMessageId = typeof id === "string" && id.length > 0 ? id.slice(0, 200) : undefined;
      const extra = providerMessageId === undefined ? {} : { providerMessageId };
      await onTry({ target, ok: true, durationMs, ...extra });
      return { target, ...extra };
    }
    lastError = error;
    if (error instanceof DeliveryFailedError && error.retryable) retryable = true;
    await onTry({ target, ok: false, error, durationMs });
  }
  const cut = signal.aborted ? " before the deadline" : "";
  throw new DeliveryFailedError(
    tries === 1
      ? `the notifier could not deliver the token${cut}`
      : `no channel delivered the token${cut} (${tries} tries)`,
    { cause: lastError, retryable, ...providerCodeOf(lastError) },
  );
}

function providerCodeOf(error: unknown): { providerCode?: string } {
  return error instanceof DeliveryFailedError && error.providerCode !== undefined
    ? { providerCode: error.providerCode }
    : {};
}

/** A short reason for a failed try, for the event: the provider's code or the error's code. */
export function failureReason(error: unknown): string {
  if (error instanceof DeliveryFailedError && error.providerCode)
    return `delivery_failed:${error.providerCode}`.slice(0, 80);
  if (error instanceof HealthTokenError) return error.code.toLowerCase();
  return "delivery_failed";
}
