/**
 * parsePerson / parseContact: people and contacts read from a database parse with the service's own schemas
 * (issue #15), instead of a cast of a `channel: string` column to `Channel`.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createTokenService,
  InvalidArgumentError,
  isHealthTokenError,
  MemoryTokenStore,
  parseContact,
  parsePerson,
} from "../../../src/index.js";
import { FakeClock, OutboxNotifier } from "../../../src/testing/index.js";
import { testPepper } from "../../helpers/keys.js";

/** What `SELECT … FROM beneficiaries` gives: strings everywhere, and columns the service does not use. */
const row = () => ({
  id: "ben-db-1",
  birthDate: "1979-03-14",
  plan_code: "PLANO-OURO",
  created_at: "2026-01-02T03:04:05Z",
  contacts: [
    { id: "c-1", channel: "sms" as string, address: "(43) 99999-0001", verified_at: null },
    { id: "c-2", channel: "email" as string, address: "maria.demo@example.com" },
  ],
});

/** The issues of what `call` throws (it must throw an InvalidArgumentError). */
function issuesOf(call: () => unknown) {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as InvalidArgumentError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error("expected an InvalidArgumentError");
}

describe("parsePerson", () => {
  it("turns a database row into a PersonInput the service accepts, dropping the other columns", async () => {
    const person = parsePerson(row());
    expect(person).toEqual({
      id: "ben-db-1",
      birthDate: "1979-03-14",
      contacts: [
        { id: "c-1", channel: "sms", address: "(43) 99999-0001" },
        { id: "c-2", channel: "email", address: "maria.demo@example.com" },
      ],
    });
    const outbox = new OutboxNotifier();
    const tokens = createTokenService({
      store: new MemoryTokenStore(),
      notifier: outbox,
      pepper: testPepper("people"),
      clock: new FakeClock(),
    });
    const body = JSON.parse('{"contactId":"c-2"}') as { contactId?: string | undefined };
    const issued = await tokens.issue({
      guide: { id: "G-1", providerId: "P-1" },
      beneficiary: person,
      contactId: body.contactId,
    });
    expect([issued.channel, issued.deliveredTo]).toEqual(["email", "m***@e***.com"]);
  });

  it("names every bad field by its path", () => {
    const bad = {
      ...row(),
      birthDate: "1979-02-30",
      contacts: [
        { id: "c-1", channel: "telegram", address: "(43) 99999-0001" },
        { id: "c-2", channel: "email" },
      ],
    };
    expect(issuesOf(() => parsePerson(bad))).toEqual([
      "birthDate: not a valid date",
      expect.stringMatching(/^contacts\.0\.channel: /),
      expect.stringMatching(/^contacts\.1\.address: /),
    ]);
  });

  it("refuses an address that is not valid for its channel, and duplicate contact ids", () => {
    const bad = {
      ...row(),
      contacts: [
        { id: "c-1", channel: "sms", address: "(43) 3333-0001" }, // a landline cannot get an SMS
        { id: "c-1", channel: "whatsapp", address: "(43) 99999-0001" },
        { id: "c-3", channel: "email", address: "not-an-email" },
      ],
    };
    expect(issuesOf(() => parsePerson(bad))).toEqual([
      "contacts.0.address: not a valid mobile phone number",
      "contacts.1.id: duplicate contact id",
      "contacts.2.address: not a valid e-mail address",
    ]);
  });

  it("refuses more than 20 contacts and a missing contacts list", () => {
    const many = Array.from({ length: 21 }, (_, i) => ({
      id: `c-${i}`,
      channel: "email",
      address: `p${i}@example.com`,
    }));
    expect(issuesOf(() => parsePerson({ ...row(), contacts: many }))).toEqual([
      expect.stringMatching(/^contacts: /),
    ]);
    const { contacts: _dropped, ...noContacts } = row();
    expect(issuesOf(() => parsePerson(noContacts))).toEqual([expect.stringMatching(/^contacts: /)]);
  });

  it("never puts an address in the error", () => {
    const secret = "segredo.pessoal@example.com";
    const error = (() => {
      try {
        parsePerson({ ...row(), contacts: [{ id: "c-1", channel: "sms", address: secret }] });
      } catch (caught) {
        return caught;
      }
    })();
    expect(isHealthTokenError(error)).toBe(true);
    expect(JSON.stringify(error)).not.toContain(secret);
    expect(String((error as Error).message)).not.toContain(secret);
    expect(JSON.stringify((error as InvalidArgumentError).issues)).not.toContain(secret);
  });

  it("returns a PersonInput or throws InvalidArgumentError for anything at all (hostile input)", () => {
    const contact = fc.record(
      {
        id: fc.oneof(fc.string(), fc.constantFrom("c-1", "\u0000", "x".repeat(65)), fc.anything()),
        channel: fc.oneof(
          fc.constantFrom("sms", "email", "whatsapp", "app", "SMS", "__proto__"),
          fc.anything(),
        ),
        address: fc.oneof(
          fc.constantFrom("(43) 99999-0001", "a@example.com", "app-device-1", "\ud800", ""),
          fc.string(),
          fc.anything(),
        ),
      },
      { requiredKeys: [] },
    );
    const person = fc.record(
      {
        id: fc.oneof(fc.constantFrom("ben-1", "", "constructor"), fc.string(), fc.anything()),
        birthDate: fc.oneof(
          fc.constantFrom("1980-01-01", "2000-02-29", "1899-12-31", "1980-13-01"),
          fc.string(),
        ),
        contacts: fc.oneof(fc.array(contact, { maxLength: 22 }), fc.anything()),
        ["__proto__" as string]: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(person, fc.anything()), (value) => {
        let parsed: ReturnType<typeof parsePerson>;
        try {
          parsed = parsePerson(value);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidArgumentError);
          expect((error as InvalidArgumentError).issues.length).toBeGreaterThan(0);
          return;
        }
        // Accepted: exactly the three fields, each contact exactly its three, on a known channel.
        expect(Object.keys(parsed).sort()).toEqual(["birthDate", "contacts", "id"]);
        for (const c of parsed.contacts) {
          expect(Object.keys(c).sort()).toEqual(["address", "channel", "id"]);
          expect(["sms", "email", "whatsapp", "app"]).toContain(c.channel);
        }
        expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
      }),
      { numRuns: 500, seed: 15 },
    );
  });
});

describe("parseContact", () => {
  it("checks a `channel: string` row against the channels and the address against its channel", () => {
    const fromDb: { id: string; channel: string; address: string; person_id: number } = {
      id: "c-9",
      channel: "whatsapp",
      address: "+55 43 99999-0009",
      person_id: 7,
    };
    expect(parseContact(fromDb)).toEqual({ id: "c-9", channel: "whatsapp", address: "+55 43 99999-0009" });
    expect(issuesOf(() => parseContact({ ...fromDb, channel: "fax" }))).toEqual([
      'channel: Invalid option: expected one of "app"|"sms"|"whatsapp"|"email"',
    ]);
    expect(issuesOf(() => parseContact({ ...fromDb, channel: "email" }))).toEqual([
      "address: not a valid e-mail address",
    ]);
    expect(issuesOf(() => parseContact({ ...fromDb, id: "" }))).toEqual([expect.stringMatching(/^id: /)]);
    expect(issuesOf(() => parseContact(null))).toEqual([": Invalid input: expected object, received null"]);
  });

  it("returns a ContactInput or throws InvalidArgumentError for anything at all (hostile input)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ id: fc.string(), channel: fc.string(), address: fc.string() }, { requiredKeys: [] }),
          fc.anything(),
        ),
        (value) => {
          try {
            const c = parseContact(value);
            expect(Object.keys(c).sort()).toEqual(["address", "channel", "id"]);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidArgumentError);
          }
        },
      ),
      { numRuns: 500, seed: 15 },
    );
  });
});
