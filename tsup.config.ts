import { defineConfig, type Options } from "tsup";

/**
 * One entry per public subpath (`index` is the root). `scripts/check-exports.mjs` fails the build when this
 * map and the `exports` map of package.json drift apart, or when a file named in `exports` was not built.
 */
export const entries = {
  index: "src/index.ts",
  otp: "src/otp/index.ts",
  testing: "src/testing/index.ts",
  redis: "src/adapters/redis.ts",
  postgres: "src/adapters/postgres.ts",
  smtp: "src/adapters/smtp.ts",
  whatsapp: "src/adapters/whatsapp.ts",
  sms: "src/adapters/sms.ts",
  webhook: "src/adapters/webhook.ts",
  http: "src/http/index.ts",
  tiss: "src/tiss/index.ts",
  receipts: "src/adapters/receipts/index.ts",
} as const;

const common: Options = {
  entry: entries,
  dts: true,
  // Maps without the sources' text: stack traces still name src/… lines, and the tarball does not carry the
  // sources a second time (with the text inlined, maps were 63% of the unpacked package).
  sourcemap: true,
  esbuildOptions(options) {
    options.sourcesContent = false;
  },
  // `npm run build` empties dist/ first: the two builds below run in parallel and must not clean each other.
  clean: false,
  treeshake: true,
  splitting: true,
  target: "es2022",
  platform: "neutral",
  external: [/^node:/, "ioredis", "redis", "pg", "nodemailer"],
};

export default defineConfig([
  { ...common, format: "esm" },
  {
    ...common,
    format: "cjs",
    // @noble/hashes 2 ships ESM only. Node 20.19+ can `require` it, but Jest's module loader cannot, so the
    // CommonJS build carries the few functions it uses (SHA-1, SHA-256, HMAC, hex) instead of requiring them.
    noExternal: [/^@noble\/hashes/],
  },
]);
