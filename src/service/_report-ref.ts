/**
 * The report reference of a message (internal): `base64url(guideId).base64url(beneficiaryId).tag`, where the
 * tag is the code hasher's HMAC of the pair under a label no code can take, so a reference cannot be forged
 * without the pepper and resolves to its guide and beneficiary without a lookup.
 */
import type { CodeHasher } from "../_internal/codes.js";
import { constantTimeEqualString } from "../_internal/constant-time.js";
import { base64urlDecode, base64urlOfText } from "../_internal/ids.js";

const decoder = new TextDecoder("utf-8", { fatal: true });
/** Codes are digits only: this label never collides with a code hash. */
const LABEL = "report-unrequested:";
const TAG_LENGTH = 22;

function tagOf(hasher: CodeHasher, guideId: string, beneficiaryId: string): string {
  return hasher.hash(guideId, LABEL + beneficiaryId).slice(3, 3 + TAG_LENGTH);
}

/** The reference for a guide and beneficiary, tagged with the first (current) hasher. */
export function makeReportRef(hasher: CodeHasher, guideId: string, beneficiaryId: string): string {
  const g = base64urlOfText(guideId);
  const b = base64urlOfText(beneficiaryId);
  return `${g}.${b}.${tagOf(hasher, guideId, beneficiaryId)}`;
}

/** The guide and beneficiary of a reference whose tag one of the hashers made; `undefined` otherwise. */
export function readReportRef(
  hashers: readonly CodeHasher[],
  ref: string,
): { guideId: string; beneficiaryId: string } | undefined {
  if (ref.length > 600) return undefined;
  const parts = ref.split(".");
  if (parts.length !== 3) return undefined;
  const [g, b, tag] = parts as [string, string, string];
  const gBytes = base64urlDecode(g);
  const bBytes = base64urlDecode(b);
  if (!gBytes || !bBytes) return undefined;
  let guideId: string;
  let beneficiaryId: string;
  try {
    guideId = decoder.decode(gBytes);
    beneficiaryId = decoder.decode(bBytes);
  } catch {
    return undefined;
  }
  let valid = false;
  for (const hasher of hashers) {
    if (constantTimeEqualString(tagOf(hasher, guideId, beneficiaryId), tag)) valid = true;
  }
  return valid ? { guideId, beneficiaryId } : undefined;
}

/**
 * The guide id written in a reference, read without checking its tag: only for test fakes that sort the
 * messages they recorded by guide. `undefined` when it is not a reference's shape.
 */
export function guideIdOfReportRef(ref: string): string | undefined {
  const bytes = base64urlDecode(ref.split(".")[0] ?? "");
  if (bytes === undefined || ref.split(".").length !== 3) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
