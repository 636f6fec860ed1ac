/** The studio's shared state and a tiny event bus between the panels. */

/** A fresh, empty state: what a person who has just signed in sees. */
function blank() {
  return {
    /** @type {{name: string} | null} */
    user: null,
    /** session_id from the latest enhance (or parse) response; refinements attach to it */
    sessionId: null,
    /** MusicalParameters JSON as the sliders say, or null before the prompt is analysed */
    parameters: null,
    /** StructuralPlan JSON as shown (with any energy edits), or null */
    plan: null,
    /** the plan fields (planFields) the shown plan was made from, to tell when it is stale */
    planBasis: "",
    /** whether the person edited the shown plan (then it is not replaced without asking) */
    planEdited: false,
    /** chip decisions in order: {field, value, remove?} applied to parameters read later */
    overrides: [],
    /** the prompt the parameters were read from */
    analysedPrompt: "",
    /** the last finished generation, for "same again" and "variation" */
    lastGeneration: null,
  };
}

export const state = blank();

/** Forget everything about the person (sign-out): the next person starts clean. */
export function resetState() {
  Object.assign(state, blank());
}

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
