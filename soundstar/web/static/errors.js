/** Service error codes in words a person understands (spec v1 Appendix B, v2 §9.3). */

const MESSAGES = {
  UNAUTHORIZED: "That API key was not accepted. Check it and sign in again.",
  AUTHENTICATION_FAILED: "The service could not sign in to its AI backend. Please tell whoever runs it.",
  INVALID_PROMPT: "Please describe the music in a bit more detail (10 to 500 characters).",
  CONTENT_POLICY_VIOLATION: "Your prompt contains content that is not allowed. Please rephrase it.",
  VALIDATION_ERROR: "Some of the values are not valid.",
  NOT_FOUND: "That item no longer exists, or it belongs to someone else.",
  RATE_LIMITED: "Too many requests. Please wait a moment.",
  QUOTA_EXCEEDED: "The service's quota is used up. Please try again later.",
  CODEX_TIMEOUT: "The AI service took too long. Please try again.",
  CODEX_RATE_LIMITED: "The AI service is busy. Please wait a moment.",
  CODEX_UNAVAILABLE: "The AI service is temporarily unavailable.",
  CODEX_OVERLOADED: "The AI service is busy. Using alternative processing.",
  AURORA_CODEX_TIMEOUT: "The AI service took too long. Please try again.",
  AURORA_CODEX_UNAVAILABLE: "The AI service is temporarily unavailable.",
  AURORA_LOCAL_LLM_UNAVAILABLE: "The local AI model is not running.",
  AURORA_PARSE_ERROR: "The prompt could not be understood. Try a simpler description.",
  AURORA_VALIDATION_ERROR: "The analysis gave values that did not check out. Please adjust the parameters by hand.",
  RENDER_FAILED: "The track could not be rendered. Try different parameters or a shorter duration.",
  OUTPUT_ERROR: "The audio file could not be written. Please try again.",
  CONFIGURATION_ERROR: "The service is not configured correctly. Please tell whoever runs it.",
  NETWORK_ERROR: "Cannot reach Soundstar. Please check your connection.",
  INTERNAL_ERROR: "Something went wrong on our side. Please try again.",
};

/**
 * The words to show for a service error.
 * For validation errors the service's own message names the field, so it is kept.
 * @param {string} code
 * @param {string} [serviceMessage]
 * @param {number} [retryAfter] seconds, for RATE_LIMITED
 */
export function describeError(code, serviceMessage, retryAfter) {
  if (code === "RATE_LIMITED" && retryAfter) {
    const s = Math.max(1, Math.ceil(retryAfter));
    return `Too many requests. Please wait ${s} second${s === 1 ? "" : "s"} and try again.`;
  }
  if (code === "VALIDATION_ERROR" && serviceMessage) return `Please check the values: ${serviceMessage}`;
  if (code === "NOT_FOUND" && serviceMessage) return `Not found: ${serviceMessage}`;
  if (code && code.endsWith("_UNAVAILABLE") && !(code in MESSAGES)) {
    return "A service Soundstar needs is temporarily unavailable. Please try again shortly.";
  }
  return MESSAGES[code] || serviceMessage || MESSAGES.INTERNAL_ERROR;
}
