/**
 * The HTTP handlers over a desk on the memory defaults: one authorized guide of PRV-1 for BEN-1, an
 * attendant authenticated by `x-test-provider`, a beneficiary by `x-test-beneficiary` (test-only schemes).
 */
import { createAttendantHandler, createBeneficiaryHandler } from "../../src/http/index.js";
import { adult, DESK_T0, deskFixture, guideInput } from "../helpers/desk.js";
import { testKeyBytes } from "../helpers/keys.js";

export async function httpFixture(options: { maxBodyBytes?: number } = {}) {
  const fx = deskFixture({ service: { secretsKey: testKeyBytes("seven") } });
  const beneficiary = adult("BEN-1");
  const people = new Map([["BEN-1", { beneficiary }]]);
  const open = async (id: string) => {
    await fx.desk.open({ guide: guideInput(id), beneficiaryId: "BEN-1" });
    return fx.desk.authorize({ guideId: id, senha: `S-${id}`, validUntil: "2099-12-31" });
  };
  await open("G-1");
  const attendant = createAttendantHandler({
    desk: fx.desk,
    tokens: fx.tokens,
    people: async (id) => people.get(id),
    authenticate: (req) => {
      const code = req.headers.get("x-test-provider");
      return code ? { providerCode: code } : null;
    },
    basePath: "/api/attendant",
    ...options,
  });
  const me = createBeneficiaryHandler({
    tokens: fx.tokens,
    authenticate: (req) => {
      const id = req.headers.get("x-test-beneficiary");
      return id ? { beneficiaryId: id } : null;
    },
    basePath: "/api/me",
    ...options,
  });
  const base = "http://portal.test";
  const call = (
    handler: typeof attendant,
    path: string,
    init: RequestInit & { json?: unknown } = {},
    auth: Record<string, string> = {},
  ) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    for (const [k, v] of Object.entries(auth)) headers.set(k, v);
    if (json !== undefined) headers.set("content-type", "application/json");
    return handler(
      new Request(base + path, {
        ...rest,
        headers,
        ...(json !== undefined ? { method: rest.method ?? "POST", body: JSON.stringify(json) } : {}),
      }),
    );
  };
  const asAttendant = (path: string, init: RequestInit & { json?: unknown } = {}, provider = "PRV-1") =>
    call(attendant, `/api/attendant${path}`, init, { "x-test-provider": provider });
  const asBeneficiary = (path: string, init: RequestInit & { json?: unknown } = {}, id = "BEN-1") =>
    call(me, `/api/me${path}`, init, { "x-test-beneficiary": id });
  return { ...fx, attendant, me, open, asAttendant, asBeneficiary, base, T0: DESK_T0 };
}
