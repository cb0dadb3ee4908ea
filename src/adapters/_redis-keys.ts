/**
 * The Redis key names of `RedisTokenStore` (internal): the hash tag of an id, and the key of a counter or a
 * claim, tagged by the id that owns it so that the keys of one step share a slot on Redis Cluster.
 *
 * @module
 */
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { keyPart } from "../_internal/text.js";

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** An id shown as it is inside a tag: letters, digits, `.`, `_`, `-`. */
const PLAIN_ID = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * The hash tag of an id: `=<id>` for ids of letters, digits, `.`, `_`, `-` (readable keys), otherwise `_` and
 * the base64url of its UTF-8 bytes. `=` is not a base64url character, so the two forms never collide, and
 * neither holds a brace, a colon or a glob character.
 */
export function tagOf(id: string): string {
  return PLAIN_ID.test(id) ? `=${id}` : `_${encodeId(id)}`;
}

/** base64url (no padding) of the UTF-8 bytes of `text`: no braces, colons or glob characters. */
function encodeId(text: string): string {
  const bytes = utf8ToBytes(text);
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    out += B64URL[b0 >> 2]!;
    out += B64URL[((b0 & 3) << 4) | ((b1 ?? 0) >> 4)]!;
    if (b1 !== undefined) out += B64URL[((b1 & 15) << 2) | ((b2 ?? 0) >> 6)]!;
    if (b2 !== undefined) out += B64URL[b2 & 63]!;
  }
  return out;
}

const KEY_PART = /^[A-Za-z0-9._~%-]*$/;
const PERCENT = /%([0-9A-F]{2})/g;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The id a key part was made from (the inverse of `keyPart`), or `undefined` when `part` is not exactly what
 * `keyPart` makes of some id: only canonical encodings are decoded, so two keys never meet as one.
 */
function idOfPart(part: string): string | undefined {
  if (!KEY_PART.test(part)) return undefined;
  if (!part.includes("%")) return part;
  const bytes: number[] = [];
  let last = 0;
  for (const m of part.matchAll(PERCENT)) {
    for (let i = last; i < m.index; i++) bytes.push(part.charCodeAt(i));
    bytes.push(Number.parseInt(m[1]!, 16));
    last = m.index + 3;
  }
  for (let i = last; i < part.length; i++) bytes.push(part.charCodeAt(i));
  let id: string;
  try {
    id = utf8.decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
  return keyPart(id) === part ? id : undefined;
}

/** The counter families of `rateLimitKeys` whose key is `rl:<family>:<keyPart(owner)>`. */
const ONE_ID = new Set(["cd", "sg", "bf", "pf"]);
const STEP = /^[0-9]{1,20}$/;

/**
 * The owner and the rest of a key of one of the `rateLimitKeys` shapes: `rl:cd|sg|bf|pf:<id>` (owner: the id),
 * `rl:aa:<guide>:<beneficiary>` (owner: the beneficiary) and `totp:<beneficiary>:<step>` (owner: the
 * beneficiary). `undefined` for any other key.
 */
function shapeOf(key: string): { readonly owner: string; readonly rest: string } | undefined {
  const parts = key.split(":");
  if (parts[0] === "rl") {
    const family = parts[1]!;
    if (parts.length === 3 && ONE_ID.has(family)) {
      const owner = idOfPart(parts[2]!);
      return owner === undefined ? undefined : { owner, rest: family };
    }
    if (parts.length === 4 && family === "aa" && idOfPart(parts[2]!) !== undefined) {
      const owner = idOfPart(parts[3]!);
      return owner === undefined ? undefined : { owner, rest: `aa:${parts[2]}` };
    }
    return undefined;
  }
  if (parts[0] === "totp" && parts.length === 3 && STEP.test(parts[2]!)) {
    const owner = idOfPart(parts[1]!);
    return owner === undefined ? undefined : { owner, rest: `totp:${parts[2]}` };
  }
  return undefined;
}

/**
 * The Redis key of a counter (`kind` `c`) or a claim (`o`) named `key`. A key of a `rateLimitKeys` shape is
 * tagged by its owner and keeps its family (and the guide, or the step) after the tag:
 * `<prefix>:c:{<owner>}:<family>[:…]` (so a guide's cooldown and sends share its token's slot, a beneficiary's
 * failures, app attempts and step claims share its events' slot). Any other key is tagged whole,
 * `<prefix>:<kind>:{<key>}`, with nothing after the tag, so the two forms never meet.
 */
export function ownedKey(prefix: string, kind: "c" | "o", key: string): string {
  const shape = shapeOf(key);
  return shape === undefined
    ? `${prefix}:${kind}:{${tagOf(key)}}`
    : `${prefix}:${kind}:{${tagOf(shape.owner)}}:${shape.rest}`;
}

/** The hash tag of a key of this store (what decides its slot on a cluster): the text inside its braces. */
export function slotTag(redisKey: string): string {
  const open = redisKey.indexOf("{");
  return redisKey.slice(open + 1, redisKey.indexOf("}", open + 1));
}
