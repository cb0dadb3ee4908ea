import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import nodemailer from "nodemailer";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SmtpNotifier } from "../../../src/adapters/smtp.js";
import { ConfigError, DeliveryFailedError } from "../../../src/errors.js";
import type { TokenMessage } from "../../../src/ports/notifier.js";
import { runNotifierConformance } from "../../../src/testing/notifier-conformance.js";

const PASSWORD = "smtp-pass-9f8e7d6c5b4a";

interface Received {
  readonly envelopeTo: string[];
  readonly parsed: ParsedMail;
  readonly raw: string;
}

async function startSmtp(
  options: Partial<SMTPServerOptions>,
): Promise<{ port: number; server: SMTPServer; mails: Received[] }> {
  const mails: Received[] = [];
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        mails.push({
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          parsed: await simpleParser(raw),
          raw,
        });
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.server.address() as AddressInfo).port, server, mails };
}

const transportFor = (port: number, auth?: { user: string; pass: string }) =>
  nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    secure: false,
    ignoreTLS: true,
    ...(auth ? { auth } : {}),
  });

const message = (overrides: Partial<TokenMessage> = {}): TokenMessage => ({
  code: "482913",
  ttlSeconds: 1800,
  expiresAtMs: 1_790_001_800_000,
  channel: "email",
  to: "pessoa.exemplo@example.org",
  recipient: "beneficiary",
  beneficiaryId: "ben-7",
  locale: "pt-BR",
  operatorName: "Exemplo Saúde",
  ...overrides,
});

let ok: Awaited<ReturnType<typeof startSmtp>>;
let rejecting: Awaited<ReturnType<typeof startSmtp>>;
let authRequired: Awaited<ReturnType<typeof startSmtp>>;

beforeAll(async () => {
  ok = await startSmtp({});
  // Refuses every recipient, echoing the address the way real servers do ("550 5.1.1 <x@y>: user unknown").
  rejecting = await startSmtp({
    onRcptTo(address, _session, callback) {
      const error = new Error(`5.1.1 <${address.address}>: Recipient address rejected`) as Error & {
        responseCode: number;
      };
      error.responseCode = address.address.startsWith("busy") ? 451 : 550;
      callback(error);
    },
  });
  authRequired = await startSmtp({
    authOptional: false,
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      callback(new Error(`Invalid credentials for ${auth.username}:${auth.password}`));
    },
  });
});
afterAll(async () => {
  await Promise.all(
    [ok, rejecting, authRequired].map((s) => new Promise<void>((r) => s.server.close(() => r()))),
  );
});

runNotifierConformance({
  name: "SmtpNotifier",
  channel: "email",
  recipient: "conformance@example.org",
  createNotifier: () =>
    new SmtpNotifier({ transport: transportFor(ok.port), from: "nao-responda@example.org" }),
  createFailingNotifier: () =>
    new SmtpNotifier({
      transport: transportFor(rejecting.port),
      from: "nao-responda@example.org",
      secrets: [PASSWORD],
    }),
  received: () =>
    ok.mails.map((m) => `${m.parsed.subject}\n${m.parsed.text}\n${m.parsed.html || ""}\n${m.raw}`),
  secrets: [PASSWORD],
  test: { describe, it, expect },
});

describe("SmtpNotifier against a real SMTP server on loopback", () => {
  it("delivers a text and HTML mail to the recipient with the subject and code, and nothing else personal", async () => {
    const notifier = new SmtpNotifier({
      transport: transportFor(ok.port),
      from: '"Exemplo Saúde" <nao-responda@example.org>',
    });
    const before = ok.mails.length;
    const receipt = await notifier.send(message());
    const mail = ok.mails[before]!;
    expect(receipt.channel).toBe("email");
    expect(receipt.providerMessageId).toBe(mail.parsed.messageId);
    expect(mail.envelopeTo).toEqual(["pessoa.exemplo@example.org"]);
    expect(mail.parsed.to && !Array.isArray(mail.parsed.to) ? mail.parsed.to.text : "").toBe(
      "pessoa.exemplo@example.org",
    );
    expect(mail.parsed.from?.value[0]?.address).toBe("nao-responda@example.org");
    expect(mail.parsed.subject).toBe("Exemplo Saúde: seu token de atendimento");
    expect(mail.parsed.text).toContain("Seu token de atendimento é: 482913");
    expect(mail.parsed.text).toContain("Informe-o apenas ao atendente");
    expect(mail.parsed.html).toContain(">482913</p>");
    expect(mail.parsed.headers.get("auto-submitted")).toBe("auto-generated");
    expect(mail.raw).not.toContain("ben-7");
    expect(mail.parsed.attachments).toEqual([]);
  });

  it("uses a fixed subject, Reply-To and the en template when asked", async () => {
    const notifier = new SmtpNotifier({
      transport: transportFor(ok.port),
      from: "nao-responda@example.org",
      subject: "Your code",
      replyTo: "atendimento@example.org",
    });
    const before = ok.mails.length;
    await notifier.send(message({ locale: "en" }));
    const mail = ok.mails[before]!;
    expect(mail.parsed.subject).toBe("Your code");
    expect(mail.parsed.replyTo?.value[0]?.address).toBe("atendimento@example.org");
    expect(mail.parsed.text).toContain("Your attendance token is: 482913");
  });

  it("maps a permanent recipient refusal (550) to a non-retryable failure without the address or code", async () => {
    const notifier = new SmtpNotifier({
      transport: transportFor(rejecting.port),
      from: "nao-responda@example.org",
    });
    const error = await notifier.send(message()).catch((e) => e);
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error.providerCode).toBe("550");
    expect(error.retryable).toBe(false);
    expect(error.cause.transportCode).toBe("EENVELOPE");
    expect(error.cause.message).toContain("[redacted]");
    expect(`${error.message} ${error.cause.message}`).not.toContain("pessoa.exemplo@example.org");
  });

  it("maps a temporary refusal (451) to a retryable failure", async () => {
    const notifier = new SmtpNotifier({
      transport: transportFor(rejecting.port),
      from: "nao-responda@example.org",
    });
    const error = await notifier.send(message({ to: "busy@example.org" })).catch((e) => e);
    expect(error.providerCode).toBe("451");
    expect(error.retryable).toBe(true);
  });

  it("keeps the SMTP password out of an authentication failure", async () => {
    const notifier = new SmtpNotifier({
      transport: transportFor(authRequired.port, { user: "token-sender", pass: PASSWORD }),
      from: "nao-responda@example.org",
      secrets: [PASSWORD],
    });
    const error = await notifier.send(message()).catch((e) => e);
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error.cause.transportCode).toBe("EAUTH");
    expect(error.retryable).toBe(false);
    expect(`${error.message} ${error.cause.message} ${error.cause.stack}`).not.toContain(PASSWORD);
  });

  it("reports an unreachable server as a retryable failure", async () => {
    const closed = await startSmtp({});
    await new Promise<void>((r) => closed.server.close(() => r()));
    const error = await new SmtpNotifier({
      transport: transportFor(closed.port),
      from: "nao-responda@example.org",
    })
      .send(message())
      .catch((e) => e);
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error.providerCode).toBe("ESOCKET");
    expect(error.retryable).toBe(true);
  });

  it("refuses another channel or an address that is not an e-mail, and a missing transport", async () => {
    const notifier = new SmtpNotifier({ transport: transportFor(ok.port), from: "nao-responda@example.org" });
    await expect(notifier.send(message({ channel: "sms" }))).rejects.toMatchObject({
      providerCode: "unsupported_channel",
    });
    await expect(notifier.send(message({ to: "not an address" }))).rejects.toMatchObject({
      providerCode: "invalid_recipient",
    });
    expect(() => new SmtpNotifier({ transport: undefined as never, from: "x@example.org" })).toThrow(
      ConfigError,
    );
  });
});
