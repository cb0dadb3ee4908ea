/**
 * Message templates and SMS length arithmetic: pure functions, no I/O. Re-exported by the root entry.
 *
 * @module
 */
export {
  countSmsSegments,
  isGsm7,
  type SmsEncoding,
  type SmsSegmentCount,
  toGsm7Name,
} from "./sms-encoding.js";
export {
  DEFAULT_OPERATOR_NAME,
  DEFAULT_TEMPLATES,
  escapeHtml,
  type MessageTemplate,
  type MessageTemplateOverride,
  type RenderedMessage,
  renderTokenMessage,
  resolveTemplate,
  SMS_OPERATOR_NAME_MAX_UNITS,
  type TemplateInput,
  type TemplateOverrides,
} from "./templates.js";
