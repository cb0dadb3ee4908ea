export type * from "./clock.js";
export { systemClock, systemRandom } from "./clock.js";
export type * from "./delivery-report.js";
export type * from "./events.js";
export type * from "./guides.js";
export type * from "./notifier.js";
export { CHANNELS } from "./notifier.js";
export type * from "./receipt.js";
export type * from "./store.js";
