/**
 * The error of `health-token/tiss`: a TISS field is missing or holds a value the ANS schema refuses.
 *
 * @module
 */
import type { ArgumentIssue } from "../errors.js";
import { InvalidArgumentError } from "../errors.js";

/** One offending TISS field: `path` is the caller-data key or the guide field, named as the XSD element. */
export type TissFieldIssue = ArgumentIssue;

/**
 * A TISS document could not be built: a required field is missing, or a value would not validate against the
 * TISS 4.01.00 schema. `fields` names every offending field (XSD element names, such as `registroANS` or
 * `procedimentos.0.valorUnitario`); the message never repeats a value. It is an {@link InvalidArgumentError}
 * (`code: "INVALID_ARGUMENT"`).
 *
 * @example
 * ```ts
 * try { buildMensagemTiss(guide, data); }
 * catch (e) { if (e instanceof TissFieldError) console.log(e.fields); } // ["registroANS", "CNES"]
 * ```
 */
export class TissFieldError extends InvalidArgumentError {
  /** The offending fields' paths, in order. */
  readonly fields: readonly string[];

  /** @param issues - one per offending field */
  constructor(issues: readonly TissFieldIssue[]) {
    const fields = [...new Set(issues.map((i) => i.path))];
    super(`invalid TISS fields: ${fields.join(", ") || "(root)"}`, issues, { scope: "tiss" });
    this.fields = fields;
  }
}
