/**
 * health-token: one-time attendance tokens for Brazilian health plans.
 *
 * The root entry holds the token service, the policy, the guide state machine, the errors and the ports.
 * It never imports an adapter: stores and notifiers live in their own subpaths
 * (`health-token/redis`, `health-token/postgres`, `health-token/smtp`, …).
 *
 * @example
 * ```ts
 * import { HealthTokenError } from "health-token";
 * ```
 *
 * @module
 */
export * from "./errors.js";
export * from "./guide/index.js";
export * from "./messages/index.js";
export * from "./ports/index.js";
export * from "./service/index.js";
