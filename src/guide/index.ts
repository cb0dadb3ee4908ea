/**
 * The guide (guia) state machine and the TISS vocabulary, re-exported by the root entry.
 *
 * @module
 */
export {
  type AvailableEventsContext,
  availableEvents,
  createGuide,
  expireIfDue,
  guideStateDiagram,
  type TransitionContext,
  transition,
} from "./machine.js";
export {
  guideEventSchema,
  guideInputSchema,
  guidePolicySchema,
  guideSchema,
  verificationReceiptSchema,
} from "./schemas.js";
export * from "./states.js";
export * from "./tiss.js";
