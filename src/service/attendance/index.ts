/**
 * The attendance desk (re-exported by the root entry).
 *
 * @module
 */
export { type AttendanceDesk, type AttendanceDeskOptions, createAttendanceDesk } from "./desk.js";
export { attendanceLifecycleDiagram, DESK_CALL_OF_EVENT } from "./diagram.js";
export { everyGuideRequiresToken, type TokenRollout, tokenRequiredFor } from "./rollout.js";
export type * from "./types.js";
