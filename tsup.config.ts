import { defineConfig } from "tsup";

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

export default defineConfig({
  entry: entries,
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
  splitting: true,
  target: "es2022",
  platform: "neutral",
  external: [/^node:/, "ioredis", "redis", "pg", "nodemailer"],
});
