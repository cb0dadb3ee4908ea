/**
 * A caller compiled with `exactOptionalPropertyTypes` passes values that may be `undefined` (a request body's
 * optional fields) to every optional input field of the main calls. `tsc -p test/types` compiles this file
 * against the BUILT declarations (`dist/*.d.ts`, through the package's `exports`), and
 * test/types/optional-undefined.test.ts also runs {@link exercise}: an explicit `undefined` must behave as a
 * field left out.
 */
import {
  createAttendanceDesk,
  createTokenService,
  type IssueInput,
  MemoryGuideRepository,
  MemoryTokenStore,
  type PersonInput,
  renderTokenMessage,
  type tokenRequiredFor,
  toTissValidation,
} from "health-token";
import { createAttendantHandler, createBeneficiaryHandler } from "health-token/http";
import {
  base32Encode,
  buildOtpauthUri,
  generateSecret,
  hotp,
  totp,
  verifyHotp,
  verifyTotp,
} from "health-token/otp";
import type { PostgresTokenStoreOptions } from "health-token/postgres";
import { parseTwilioStatusCallback, parseWhatsAppStatusWebhook } from "health-token/receipts";
import type { RedisTokenStoreOptions } from "health-token/redis";
import { genericSms, HttpSmsNotifier, twilioSms, zenviaSms } from "health-token/sms";
import { SmtpNotifier } from "health-token/smtp";
import {
  EventRecorder,
  FakeClock,
  failingStore,
  type NotifierConformanceOptions,
  OutboxNotifier,
  type StoreConformanceOptions,
} from "health-token/testing";
import { buildMensagemTiss } from "health-token/tiss";
import { verifyWebhookSignature, WebhookNotifier } from "health-token/webhook";
import { WhatsAppNotifier } from "health-token/whatsapp";
import { testKeyBytes, testPepper } from "../helpers/keys.js";

/** What a parsed request body looks like: every optional field may be there, or not. */
interface Body {
  readonly contactId?: string | undefined;
  readonly channel?: "sms" | "email" | "whatsapp" | "app" | undefined;
  readonly text?: string | undefined;
  readonly number?: number | undefined;
  readonly flag?: boolean | undefined;
}
const body = JSON.parse("{}") as Body;
/** An optional field's value, as read from a body: `undefined` here. */
const absent = <T>(): T | undefined => body.text as T | undefined;

const adult: PersonInput = {
  id: "ben-types-1",
  birthDate: "1980-01-01",
  contacts: [{ id: "c-sms", channel: "sms", address: "(43) 99999-0101" }],
};

/** Runs the main calls with `undefined` in every optional field; returns what happened, for the test. */
export async function exercise(): Promise<string[]> {
  const log: string[] = [];
  const clock = new FakeClock(Date.UTC(2026, 10, 23, 13, 0));
  const outbox = new OutboxNotifier();
  const recorder = new EventRecorder();
  const store = failingStore(
    new MemoryTokenStore({
      eventRetentionMs: body.number,
      maxEventsPerBeneficiary: body.number,
      expiredGraceMs: body.number,
    }),
    { attempt: body.number, save: body.number },
  );
  const tokens = createTokenService({
    store,
    notifier: { sms: outbox, email: absent(), whatsapp: absent(), app: absent() },
    pepper: testPepper("types"),
    clock,
    random: absent(),
    policy: {
      ttlSeconds: body.number,
      maxAttempts: body.number,
      resendCooldownSeconds: body.number,
      fallback: body.flag,
      operatorName: body.text,
      locale: absent(),
      channelOrder: absent(),
    },
    secretsKey: testKeyBytes("types"),
    onEvent: recorder.onEvent,
    messageContext: { sms: absent(), email: absent() },
    delivery: {
      deadlineMs: body.number,
      backgroundDeadlineMs: body.number,
      fallbackOnFailedReceipt: body.flag,
    },
  });
  log.push(`policy ttl ${tokens.policy.ttlSeconds} attempts ${tokens.policy.maxAttempts}`);
  log.push(`contacts ${tokens.listContacts(adult, absent()).length}`);

  const guide = { id: "G-TYPES-1", providerId: "P-TYPES" };
  const input: IssueInput = {
    guide,
    beneficiary: adult,
    guardian: absent(),
    contactId: body.contactId,
    channel: body.channel,
    context: { guideRef: body.text, providerName: body.text, procedureSummary: body.text },
    notAfterMs: body.number,
    deadlineMs: body.number,
    signal: absent(),
    background: body.flag,
  };
  const issued = await tokens.issue(input);
  log.push(`issued ${issued.status}`);
  const code = outbox.lastCodeFor(adult.id);
  const verified = await tokens.verify({ guideId: guide.id, providerId: guide.providerId, code });
  log.push(`verified ${verified.ok}`);
  const page = await tokens.history(adult.id, { limit: body.number, before: body.text });
  log.push(`history ${page.length > 0}`);
  log.push(`limits ${(await tokens.limits(adult.id, body.text)).reason ?? "none"}`);
  const delivered = await recorder.waitFor("token.delivered", {
    guideId: body.text,
    timeoutMs: body.number,
  });
  log.push(`event ${delivered.type}`);
  const report = await tokens
    .applyDeliveryReport(
      {
        provider: "twilio",
        providerMessageId: "outbox-1",
        status: "delivered",
        dedupeKey: "types-1",
        providerCode: body.text,
        reference: body.text,
        occurredAtMs: body.number,
      },
      { guideId: body.text },
    )
    .catch((error: unknown) => (error as { reason?: string }).reason);
  log.push(`report ${typeof report === "string" ? report : report?.status}`);

  const desk = createAttendanceDesk({
    tokens,
    guides: new MemoryGuideRepository(),
    clock,
    guidePolicy: { billingWindowDays: body.number, returnWindowDays: body.number },
    rollout: absent<ReturnType<typeof tokenRequiredFor>>(),
    eligibilityRequired: body.flag,
  });
  await desk.open({
    guide: {
      id: "G-TYPES-2",
      type: "consulta",
      character: "eletiva",
      beneficiary: { cardNumber: "0064000000000101", cpf: body.text },
      provider: {
        code: guide.providerId,
        professional: { council: "CRM", number: "99999", uf: "PR", cbo: "225125" },
      },
      procedures: [{ tuss: "10101012", quantity: 1, table: absent() }],
    },
    beneficiaryId: adult.id,
    display: { providerName: body.text, procedureSummary: body.text },
  });
  await desk.recordEligibility({
    guideId: "G-TYPES-2",
    eligible: true,
    reason: body.text,
    checkedAtMs: body.number,
  });
  await desk.authorize({
    guideId: "G-TYPES-2",
    senha: "CO1",
    validUntil: "2026-12-31",
    partial: body.flag,
  });
  await desk.requestToken({
    guideId: "G-TYPES-2",
    beneficiary: adult,
    guardian: absent(),
    contactId: body.contactId,
    channel: body.channel,
  });
  const confirmed = await desk.confirm({
    guideId: "G-TYPES-2",
    providerId: guide.providerId,
    code: outbox.lastCodeForGuide("G-TYPES-2"),
    mode: absent(),
  });
  log.push(`confirmed ${confirmed.ok}`);
  if (confirmed.ok) {
    const billed = await desk.bill({ guideId: "G-TYPES-2", batchId: "L1" });
    // numeroLote left undefined: the guide's batch is used.
    const tiss = buildMensagemTiss(billed.guide, {
      sequencialTransacao: "1",
      registeredAtMs: clock.now(),
      numeroLote: body.text,
      guia: {
        registroANS: "123456",
        CNES: "1234567",
        indicacaoAcidente: "9",
        regimeAtendimento: "01",
        tipoConsulta: "1",
        valorProcedimento: 100,
        atendimentoRN: absent(),
        tipoIdent: absent(),
        observacao: body.text,
        nomeProfissional: body.text,
      },
    });
    log.push(
      `tiss ${tiss.xml.includes("<ans:numeroLote>L1</ans:numeroLote>")} ${toTissValidation(billed.guide) !== undefined}`,
    );
  }

  const rendered = renderTokenMessage(
    { ...outbox.last()!, operatorName: body.text, context: absent() },
    {
      "pt-BR": { sms: { subject: body.text, text: body.text, html: body.text }, email: absent() },
      en: absent(),
    },
  );
  log.push(`rendered ${rendered.text.includes(code) || rendered.text.length > 0}`);

  const secret = generateSecret({ bytes: body.number, random: absent() });
  const now = totp(secret, {
    timeMs: clock.now(),
    periodSeconds: body.number,
    t0Seconds: body.number,
    digits: body.number,
    algorithm: absent(),
  });
  log.push(
    `totp ${verifyTotp(secret, now, { timeMs: clock.now(), window: absent(), periodSeconds: body.number }).valid}`,
  );
  log.push(
    `hotp ${verifyHotp(secret, hotp(secret, 0, { digits: body.number }), { counter: 0, lookAhead: body.number }).valid}`,
  );
  log.push(`base32 ${base32Encode(secret, { padding: body.flag }).length > 0}`);
  log.push(
    `uri ${buildOtpauthUri({ type: "totp", secret, account: "a", issuer: body.text, algorithm: absent(), digits: body.number, periodSeconds: body.number }).startsWith("otpauth://")}`,
  );
  const signature = verifyWebhookSignature({
    payload: "{}",
    header: absent(),
    secret: testPepper("webhook"),
    toleranceSeconds: body.number,
    nowMs: body.number,
  });
  log.push(`webhook ${signature.ok}`);
  const wa = (() => {
    try {
      return parseWhatsAppStatusWebhook({
        rawBody: "{}",
        headers: {},
        appSecret: testPepper("whatsapp"),
        maxAgeSeconds: body.number,
        nowMs: body.number,
      }).length;
    } catch (error) {
      return (error as { code?: string }).code;
    }
  })();
  log.push(`receipts ${wa}`);
  void parseTwilioStatusCallback;

  const handler = createBeneficiaryHandler({
    tokens,
    authenticate: () => undefined,
    basePath: body.text,
    maxBodyBytes: body.number,
    locale: absent(),
    onError: absent(),
  });
  log.push(`http ${(await handler(new Request("http://x/history"))).status}`);
  createAttendantHandler({
    desk,
    tokens,
    authenticate: () => undefined,
    people: async () => ({ beneficiary: adult, guardian: absent() }),
    deliveryStatus: absent(),
    tissFields: absent(),
    basePath: body.text,
  });

  const retry = {
    maxAttempts: body.number,
    baseDelayMs: body.number,
    maxDelayMs: body.number,
    maxRetryAfterMs: body.number,
    timeoutMs: body.number,
    budgetMs: body.number,
  };
  const fetch = absent<typeof globalThis.fetch>();
  new HttpSmsNotifier({
    ...retry,
    provider: twilioSms({
      accountSid: "AC0",
      authToken: testPepper("twilio"),
      apiKeySid: body.text,
      from: "+5543999990000",
      messagingServiceSid: body.text,
      baseUrl: body.text,
      statusCallbackUrl: body.text,
    }),
    templates: absent(),
    fetch,
    sleep: absent(),
    random: absent(),
  });
  zenviaSms({ apiToken: testPepper("zenvia"), from: "plano", baseUrl: body.text });
  genericSms({
    url: "https://sms.example.com",
    body: ({ to, text }) => ({ to, text }),
    method: body.text,
    headers: absent(),
    secrets: absent(),
    messageId: absent(),
    parseError: absent(),
  });
  new WhatsAppNotifier({
    ...retry,
    phoneNumberId: "1",
    accessToken: testPepper("wa"),
    templateName: "codigo",
    language: { "pt-BR": "pt_BR", en: body.text },
    baseUrl: body.text,
    apiVersion: body.text,
    fetch,
  });
  new SmtpNotifier({
    transport: { sendMail: async () => ({ messageId: body.text }) },
    from: "nao-responda@example.org",
    subject: body.text,
    replyTo: body.text,
    templates: absent(),
    secrets: absent(),
  });
  new WebhookNotifier({
    ...retry,
    url: "https://hooks.example.com",
    secret: testPepper("hook"),
    headers: absent(),
    secrets: absent(),
    templates: absent(),
    fetch,
    clock: absent(),
    random: absent(),
    sleep: absent(),
    jitter: absent(),
  });
  return log;
}

/** Options of the stores and the conformance kits, for the compiler only (they need servers or a runner). */
export const typeOnly: readonly unknown[] = [
  {
    prefix: body.text,
    eventRetentionMs: body.number,
    maxEventsPerBeneficiary: body.number,
    tokenRetentionMs: body.number,
  } satisfies Omit<RedisTokenStoreOptions, "client">,
  {
    schema: body.text,
    eventRetentionMs: body.number,
    namedStatements: body.flag,
  } satisfies Omit<PostgresTokenStoreOptions, "pool">,
  {
    capabilities: {
      sharedAcrossInstances: body.flag,
      eventRetentionMs: body.number,
      concurrentAttempts: body.number,
      instances: body.number,
      concurrencyTimeoutMs: body.number,
    },
    cleanup: absent(),
    skip: absent(),
  } satisfies Partial<StoreConformanceOptions>,
  { timeoutMs: body.number } satisfies Partial<NotifierConformanceOptions>,
];
