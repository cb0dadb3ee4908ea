/**
 * Parsing people and contacts read from elsewhere (a database row, a CRM's JSON) into the service's input
 * types, with the service's own schemas: no cast of a `channel: string` column to `Channel`.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.js";
import { addressProblem, type ContactInput, checkContacts, type PersonInput } from "./delivery.js";
import { parseInput, personSchema } from "./token-service.js";

/** The schema of one contact: the element of the person schema's `contacts`, the very one `issue` applies. */
const contactSchema = personSchema.shape.contacts.element;

/**
 * Checks an untrusted value as a {@link PersonInput}: the same schema `issue` and `listContacts` apply (an id
 * of 1–128 characters without control characters, a real `YYYY-MM-DD` birth date from 1900, at most 20
 * contacts with a known channel), plus each contact's address for its channel (a mobile for `sms`, a phone
 * for `whatsapp`, an e-mail, an app id) and unique contact ids. Extra fields are dropped; addresses are kept as
 * written (the service normalizes them). A birth date in the future is refused later, by `issue`, against the
 * service's clock.
 *
 * @param value - anything, such as a database row
 * @returns the person, typed
 * @throws InvalidArgumentError listing every problem by its path (`contacts.1.channel`), never the value
 * @example
 * ```ts
 * const row = await db.one("SELECT id, birth_date::text AS \"birthDate\", contacts FROM beneficiaries WHERE id = $1", [id]);
 * const beneficiary = parsePerson(row); // contacts: [{ id, channel: "sms", address }], channel checked
 * await tokens.issue({ guide, beneficiary, contactId: body.contactId });
 * ```
 */
export function parsePerson(value: unknown): PersonInput {
  const person = parseInput(personSchema, value, "person");
  const { issues } = checkContacts(person.contacts, "");
  if (issues.length > 0) throw new InvalidArgumentError("invalid person", issues);
  return person;
}

/**
 * Checks an untrusted value as one {@link ContactInput}: an id of 1–64 characters, a `channel` of `app`, `sms`,
 * `whatsapp` or `email` (a `string` column is fine: anything else is refused), and an address valid for that
 * channel. Extra fields are dropped; the address is kept as written.
 *
 * @param value - anything, such as a row of a contacts table
 * @returns the contact, typed
 * @throws InvalidArgumentError listing every problem by its path (`channel`, `address`), never the value
 * @example
 * ```ts
 * const rows = await db.any("SELECT id, channel, address FROM contacts WHERE person_id = $1", [id]);
 * const beneficiary = { id, birthDate, contacts: rows.map(parseContact) };
 * ```
 */
export function parseContact(value: unknown): ContactInput {
  const contact = parseInput(contactSchema, value, "contact");
  if (checkContacts([contact], "").issues.length > 0) {
    throw new InvalidArgumentError("invalid contact", [
      { path: "address", message: addressProblem(contact.channel) },
    ]);
  }
  return contact;
}
