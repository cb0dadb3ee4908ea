import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ProviderError, parseRetryAfter, redact, sendHttp } from "../../../src/adapters/_http.js";
import { DeliveryFailedError } from "../../../src/errors.js";
import { closedPortUrl, recordingSleep, startServer, type TestServer } from "./_server.js";

const TOKEN = "tok_live_Zx9w8v7u6t5s4r3q";
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

const request = (url: string) => ({
  url: `${url}/send`,
  method: "POST",
  headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
  body: JSON.stringify({ to: "+5543999990001", code: "482913" }),
});

async function failure(promise: Promise<unknown>): Promise<DeliveryFailedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryFailedError);
  return error as DeliveryFailedError;
}

describe("sendHttp", () => {
  it("returns the parsed 2xx body on the first attempt, sending method, headers and body", async () => {
    const s = await server(() => ({ status: 201, body: { id: "m-1" } }));
    const result = await sendHttp(request(s.url), { scope: "t" }, [TOKEN]);
    expect(result).toEqual({ status: 201, body: { id: "m-1" }, attempts: 1 });
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]?.method).toBe("POST");
    expect(s.requests[0]?.path).toBe("/send");
    expect(s.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(s.requests[0]?.body ?? "")).toEqual({ to: "+5543999990001", code: "482913" });
  });

  it("retries 5xx with full-jitter exponential backoff, then succeeds", async () => {
    const s = await server((_r, i) => (i < 2 ? { status: 503, body: { message: "busy" } } : { status: 200 }));
    const { sleep, waits } = recordingSleep();
    const result = await sendHttp(
      request(s.url),
      { scope: "t", sleep, random: () => 0.5, baseDelayMs: 200 },
      [],
    );
    expect(result.attempts).toBe(3);
    expect(waits).toEqual([100, 200]); // random 0.5 × ceilings 200, 400
    expect(s.requests).toHaveLength(3);
  });

  it("caps the backoff at maxDelayMs", async () => {
    const s = await server(() => ({ status: 500 }));
    const { sleep, waits } = recordingSleep();
    await failure(
      sendHttp(
        request(s.url),
        { scope: "t", sleep, random: () => 0.999, baseDelayMs: 100, maxDelayMs: 300, maxAttempts: 5 },
        [],
      ),
    );
    expect(waits).toEqual([99, 199, 299, 299]);
  });

  it("gives up after maxAttempts with a retryable error naming the status and attempts", async () => {
    const s = await server(() => ({ status: 502, body: { code: "BAD_GATEWAY", message: "upstream down" } }));
    const { sleep } = recordingSleep();
    const error = await failure(sendHttp(request(s.url), { scope: "sms:x", sleep, maxAttempts: 3 }, []));
    expect(s.requests).toHaveLength(3);
    expect(error.retryable).toBe(true);
    expect(error.providerCode).toBe("BAD_GATEWAY");
    expect(error.message).toBe(
      "[health-token] [sms:x] provider answered HTTP 502 (code BAD_GATEWAY) after 3 attempts",
    );
    expect(error.cause).toBeInstanceOf(ProviderError);
    expect((error.cause as ProviderError).providerMessage).toBe("upstream down");
    expect((error.cause as ProviderError).status).toBe(502);
  });

  it("honours Retry-After in seconds", async () => {
    const s = await server((_r, i) =>
      i === 0 ? { status: 429, headers: { "retry-after": "3" } } : { status: 200 },
    );
    const { sleep, waits } = recordingSleep();
    await sendHttp(request(s.url), { scope: "t", sleep, random: () => 0 }, []);
    expect(waits).toEqual([3000]);
  });

  it("honours Retry-After as an HTTP date", async () => {
    const nowMs = Date.UTC(2026, 10, 23, 12, 0, 0);
    const at = new Date(nowMs + 7000).toUTCString();
    const s = await server((_r, i) =>
      i === 0 ? { status: 503, headers: { "retry-after": at } } : { status: 200 },
    );
    const { sleep, waits } = recordingSleep();
    await sendHttp(
      request(s.url),
      { scope: "t", sleep, random: () => 0, now: () => nowMs, maxRetryAfterMs: 30_000 },
      [],
    );
    expect(waits).toEqual([7000]);
  });

  it("stops retrying when Retry-After exceeds the cap, still reporting a retryable failure", async () => {
    const s = await server(() => ({ status: 429, headers: { "retry-after": "31" }, body: { code: 20429 } }));
    const { sleep, waits } = recordingSleep();
    const error = await failure(sendHttp(request(s.url), { scope: "t", sleep, maxRetryAfterMs: 30_000 }, []));
    expect(s.requests).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(error.retryable).toBe(true);
    expect(error.providerCode).toBe("20429");
  });

  it("waits exactly the cap when Retry-After equals it", async () => {
    const s = await server((_r, i) =>
      i === 0 ? { status: 429, headers: { "retry-after": "30" } } : { status: 200 },
    );
    const { sleep, waits } = recordingSleep();
    await sendHttp(
      request(s.url),
      { scope: "t", sleep, random: () => 0, maxRetryAfterMs: 30_000, budgetMs: 60_000 },
      [],
    );
    expect(waits).toEqual([30_000]);
  });

  it("never retries a 4xx other than 429", async () => {
    const s = await server((r) => ({ status: Number(r.path.slice(1)), body: { message: "no" } }));
    const { sleep } = recordingSleep();
    await fc.assert(
      fc.asyncProperty(
        // Excluded, because fetch itself never hands them to us: undici repeats a request answered 421
        // Misdirected on a fresh connection (RFC 9110 § 15.5.20 allows it), and the Fetch standard turns a 407
        // into a network error (which we do retry, as we cannot see the status).
        fc.integer({ min: 400, max: 499 }).filter((n) => n !== 429 && n !== 421 && n !== 407),
        async (status) => {
          const before = s.requests.length;
          const error = await failure(
            sendHttp({ url: `${s.url}/${status}`, method: "POST", headers: {} }, { scope: "t", sleep }, []),
          );
          expect(s.requests.length - before).toBe(1);
          expect(error.retryable).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("lets a provider classifier retry its own rate-limit code on a 400", async () => {
    const s = await server((_r, i) => (i === 0 ? { status: 400, body: { code: 4 } } : { status: 200 }));
    const { sleep } = recordingSleep();
    const result = await sendHttp(
      request(s.url),
      {
        scope: "t",
        sleep,
        parseError: (_st, b) => ({ code: String((b as { code: number }).code), retryable: true }),
      },
      [],
    );
    expect(result.attempts).toBe(2);
  });

  it("retries network errors and reports them as retryable, with no provider code", async () => {
    const url = await closedPortUrl();
    const { sleep, waits } = recordingSleep();
    const error = await failure(sendHttp(request(url), { scope: "t", sleep, maxAttempts: 3 }, []));
    expect(waits).toHaveLength(2);
    expect(error.retryable).toBe(true);
    expect(error.providerCode).toBeUndefined();
    expect((error.cause as ProviderError).kind).toBe("network");
    expect((error.cause as ProviderError).providerMessage).toContain("ECONNREFUSED");
    expect(error.message).toBe("[health-token] [t] network error after 3 attempts");
  });

  it("times out an attempt that gets no answer and retries it", async () => {
    const s = await server(() => ({ status: 200, delayMs: 2_000 }));
    const { sleep } = recordingSleep();
    const error = await failure(
      sendHttp(request(s.url), { scope: "t", sleep, timeoutMs: 100, maxAttempts: 2 }, []),
    );
    expect(s.requests).toHaveLength(2);
    expect((error.cause as ProviderError).kind).toBe("timeout");
    expect(error.retryable).toBe(true);
    expect(error.message).toBe("[health-token] [t] no answer within 100 ms after 2 attempts");
  });

  it("redacts credentials, the code and the recipient a provider echoes back", async () => {
    const s = await server((r) => ({
      status: 400,
      body: {
        code: "INVALID",
        message: `bad request ${r.headers.authorization} ${r.body} ${encodeURIComponent(TOKEN)}`,
      },
    }));
    const error = await failure(
      sendHttp(request(s.url), { scope: "t" }, [TOKEN, "482913", "+5543999990001"]),
    );
    const cause = error.cause as ProviderError;
    const everything = `${error.message} ${error.stack} ${cause.message} ${cause.stack} ${cause.providerMessage}`;
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain("482913");
    expect(everything).not.toContain("+5543999990001");
    expect(cause.providerMessage).toContain("Bearer [redacted]");
  });

  it("reads a non-JSON error body as the provider message", async () => {
    const s = await server(() => ({ status: 403, body: "Forbidden by gateway" }));
    const error = await failure(sendHttp(request(s.url), { scope: "t" }, []));
    expect((error.cause as ProviderError).providerMessage).toBe("Forbidden by gateway");
    expect(error.providerCode).toBeUndefined();
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  it("reads delay-seconds and HTTP dates (RFC 9110 § 10.2.3)", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Mon, 23 Nov 2026 12:00:05 GMT", now)).toBe(5_000);
    expect(parseRetryAfter("Mon, 23 Nov 2026 11:00:00 GMT", now)).toBe(0);
  });
  it("ignores absent or unreadable values", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
  });
});

describe("redact", () => {
  it("removes every occurrence of each secret and its URL-encoded form, longest first", () => {
    expect(redact("a+b/c=d and a%2Bb%2Fc%3Dd", ["a+b/c=d"])).toBe("[redacted] and [redacted]");
    expect(redact("secret-long secret", ["secret", "secret-long"])).toBe("[redacted] [redacted]");
    expect(redact("abc", ["ab"])).toBe("abc");
  });

  it("removes every form of the recipient's digits and of the code a gateway echoes", () => {
    const to = "+5543999990001";
    const code = "123456";
    const echoes = [
      "invalid number 43999990001",
      "invalid number (43) 99999-0001",
      "to=+55 43 99999 0001 rejected",
      "number 5543999990001 blocked",
      "destination 99999-0001 (43) unknown",
      "body had code 123 456",
      "body had code 123-456 and 1 2 3 4 5 6",
      "body: Seu código é 123456.",
      "E-MAIL Maria.Teste@Example.com bounced",
    ];
    for (const echo of echoes) {
      const out = redact(echo, [to, code, "maria.teste@example.com"]);
      expect(out.replace(/\D/g, "")).not.toContain("99990001");
      expect(out.replace(/\D/g, "")).not.toContain(code);
      expect(out.toLowerCase()).not.toContain("maria.teste");
      expect(out).toContain("[redacted]");
    }
    // Ordinary numbers stay: an HTTP status, a date, a provider error code.
    expect(redact("error 21211 at 2026-12-01 (status 400)", [to, code])).toBe(
      "error 21211 at 2026-12-01 (status 400)",
    );
  });

  it("property: any grouping of the phone's or code's digits is redacted", () => {
    const to = "+5543999990001";
    const code = "908172";
    const separators = fc.constantFrom(" ", "-", ".", "(", ")", "", "  ", " - ");
    const grouped = (digits: string) =>
      fc.array(separators, { minLength: digits.length, maxLength: digits.length }).map((seps) =>
        digits
          .split("")
          .map((d, i) => d + seps[i])
          .join(""),
      );
    fc.assert(
      fc.property(
        fc.constantFrom("5543999990001", "43999990001", "999990001", code),
        fc.string({ maxLength: 10 }).filter((t) => !/\d/.test(t)),
        (digits, noise) => {
          const secretDigits = digits === code ? code : digits;
          return fc.assert(
            fc.property(grouped(secretDigits), (form) => {
              const out = redact(`${noise}${form}${noise}`, [to, code]);
              expect(out.replace(/\D/g, "")).not.toContain(secretDigits.slice(-6));
            }),
            { numRuns: 20 },
          );
        },
      ),
      { numRuns: 20 },
    );
  });
});
