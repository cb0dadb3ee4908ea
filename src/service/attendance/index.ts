/**
 * The attendance desk (re-exported by the root entry).
 *
 * @module
 */
export { type AttendanceDesk, type AttendanceDeskOptions, createAttendanceDesk } from "./desk.js";
export { everyGuideRequiresToken, type TokenRollout, tokenRequiredFor } from "./rollout.js";
export type * from "./types.js";
