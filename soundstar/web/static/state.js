/** The studio's shared state and a tiny event bus between the panels. */

export const state = {
  /** @type {{name: string} | null} */
  user: null,
  /** session_id from the latest enhance (or parse) response; refinements attach to it */
  sessionId: null,
  /** MusicalParameters JSON as the sliders say, or null before the prompt is analysed */
  parameters: null,
  /** StructuralPlan JSON as shown (with any energy edits), or null */
  plan: null,
  /** values the person accepted or edited before the parameters were read: field -> value */
  overrides: {},
  /** the prompt the parameters were read from */
  analysedPrompt: "",
};

const listeners = new Map();

/** Listen for an event; returns a function that stops listening. */
export function on(event, fn) {
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event).add(fn);
  return () => listeners.get(event).delete(fn);
}

/** Tell every listener of `event`. */
export function emit(event, detail) {
  for (const fn of listeners.get(event) || []) fn(detail);
}
