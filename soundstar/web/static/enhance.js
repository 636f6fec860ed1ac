/**
 * Enhance: the enhanced prompt with "Use this", and a chip per addition to accept,
 * reject or edit. Every decision is recorded with POST /aurora/refinements.
 */

import { post } from "./api.js";
import { byId, el } from "./dom.js";
import { implementationName, showHonesty, toast } from "./notify.js";
import { applyOverride, catalogueReady, usable } from "./params.js";
import { on, state } from "./state.js";
import { setPrompt } from "./suggest.js";

/** How each addition type is labelled. */
const LABELS = {
  genre: "Genre",
  sub_genre: "Style",
  tempo: "Tempo",
  mood: "Mood",
  instrumentation: "Instrument",
  instruments: "Instrument",
  structure: "Structure",
  key: "Key",
  time_signature: "Time signature",
  production: "Production",
  era: "Era",
};

/** How an accepted addition reads in the prompt: "at 96 BPM", "in 4/4 time". */
const PHRASES = {
  tempo: (v) => `at ${v}`,
  key: (v) => `in ${v}`,
  structure: (v) => `arranged as ${v}`,
  time_signature: (v) => `in ${v} time`,
  era: (v) => `with a ${v} sound`,
  mood: (v) => `${v} in mood`,
  genre: (v) => `in the style of ${v}`,
  sub_genre: (v) => `in the style of ${v}`,
};

/** A label a person reads: known types by name, others in plain words ("SOME_TYPE" → "Some type"). */
export function additionLabel(type) {
  if (LABELS[type]) return LABELS[type];
  const words = String(type || "").toLowerCase().replace(/[_-]+/g, " ").trim();
  return words ? words[0].toUpperCase() + words.slice(1) : "Idea";
}

const isInstrument = (type) => type === "instrumentation" || type === "instruments";

/** "a, b and c" */
function listed(values) {
  return values.length < 2 ? values.join("") : `${values.slice(0, -1).join(", ")} and ${values[values.length - 1]}`;
}

/**
 * The prompt "Use this" puts in the box: the person's words and the additions they accepted,
 * with edited values as edited; rejected and undecided additions are left out.
 * @param {string} original the person's own prompt
 * @param {{type: string, value: string, decision?: string, chosen?: string}[]} additions
 */
export function composePrompt(original, additions) {
  const taken = additions.filter((a) => a.decision === "accepted" || a.decision === "edited");
  const value = (a) => (a.decision === "edited" ? a.chosen : a.value) || a.value;
  const parts = [];
  const instruments = taken.filter((a) => isInstrument(a.type)).map(value);
  for (const a of taken) {
    if (isInstrument(a.type)) continue;
    parts.push((PHRASES[a.type] || ((v) => v))(value(a)));
  }
  if (instruments.length) parts.push(`with ${listed(instruments)}`);
  const base = original.trim().replace(/[.\s]+$/, "");
  return parts.length ? `${base}, ${parts.join(", ")}.` : original.trim();
}

/** The addition being shown, with the person's decision: the page's copy of the enhance answer. */
let shown = { original: "", additions: [] };

/** The preview says exactly what "Use this" will put in the prompt. */
function preview() {
  const text = composePrompt(shown.original, shown.additions);
  byId("enhanced-text").textContent = text;
  byId("enhanced").dataset.prompt = text;
}

/** The value the parameters hold now for an addition type, as text (the refinement's old_value). */
function currentValue(type) {
  const p = state.parameters;
  if (!p) return null;
  const values = {
    genre: p.genre,
    sub_genre: p.sub_genre,
    tempo: `${Math.round(p.tempo_bpm)} BPM`,
    mood: p.mood.join(", "),
    instrumentation: p.instrumentation.map((i) => i.name).join(", "),
    instruments: p.instrumentation.map((i) => i.name).join(", "),
    structure: p.structure,
    key: p.key,
    time_signature: p.time_signature,
    era: p.era,
  };
  return values[type] ?? null;
}

/** Record one decision; failures are shown but do not undo the change on the page. */
async function record(field, oldValue, newValue, source) {
  if (!state.sessionId) return;
  try {
    await post("/api/v1/aurora/refinements", {
      session_id: state.sessionId,
      field,
      old_value: oldValue,
      new_value: newValue,
      source,
    });
  } catch (exc) {
    toast(`Your choice was applied but could not be saved: ${exc.message}`, { error: true });
  }
}

/** What a decision did, in words on the chip. */
function outcome(addition, source, value) {
  if (source === "rejected") {
    return isInstrument(addition.type) ? "Rejected: left out of the prompt and the instruments" : "Rejected: left out of the prompt";
  }
  if (source === "edited") {
    return isInstrument(addition.type) ? `Edited: ${value} instead of ${addition.value}` : `Edited to “${value}”`;
  }
  return state.parameters ? "Accepted: set in the parameters too" : "Accepted: goes in with Use this";
}

async function decide(card, addition, source, value) {
  const old = currentValue(addition.type);
  addition.decision = source;
  addition.chosen = value;
  card.dataset.state = source;
  card.querySelector(".state").textContent = outcome(addition, source, value);
  card.querySelector(".value").textContent = value;
  for (const button of card.querySelectorAll(".row button")) button.disabled = true;
  if (source === "rejected") {
    applyOverride({ field: addition.type, value: addition.value, remove: true });
  } else {
    // an edited instrument replaces the one suggested: that one is not added
    if (source === "edited" && isInstrument(addition.type)) {
      applyOverride({ field: addition.type, value: addition.value, remove: true });
    }
    applyOverride({ field: addition.type, value });
  }
  preview();
  record(addition.type, old, source === "rejected" ? addition.value : value, source);
  const next = card.nextElementSibling?.querySelector("button:not([disabled])");
  if (next) next.focus();
  else byId("use-enhanced").focus();
  await catalogueReady();
  if (source !== "rejected" && !usable(addition.type, value)) {
    // said, not silently dropped: the prompt takes the words, the controls cannot
    card.dataset.fits = "false";
    card.querySelector(".state").textContent +=
      ` — not a ${additionLabel(addition.type).toLowerCase()} the controls can set, so ` +
      (old === null ? "the parameters will not take it" : `they keep ${old}`);
  }
}

function startEdit(card, addition) {
  const row = card.querySelector(".row");
  const input = el("input", {
    type: "text",
    value: addition.value,
    maxlength: "200",
    "aria-label": `Edit ${additionLabel(addition.type)}`,
  });
  const save = el("button", { type: "button", class: "btn btn-primary btn-small", text: "Save" });
  const cancel = el("button", { type: "button", class: "btn btn-ghost btn-small", text: "Cancel" });
  const editor = el("div", { class: "row editor" }, input, save, cancel);
  row.hidden = true;
  card.append(editor);
  input.focus();
  input.select();
  const finish = () => {
    editor.remove();
    row.hidden = false;
  };
  const commit = () => {
    const value = input.value.trim();
    if (!value) {
      input.focus();
      return;
    }
    finish();
    decide(card, addition, value === addition.value ? "accepted" : "edited", value);
  };
  save.addEventListener("click", commit);
  cancel.addEventListener("click", () => {
    finish();
    row.querySelector("button").focus();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      commit();
    } else if (event.key === "Escape") {
      event.preventDefault();
      finish();
      row.querySelector("button").focus();
    }
  });
}

function additionCard(addition) {
  const label = additionLabel(addition.type);
  const card = el(
    "li",
    { class: "addition", "data-type": addition.type, "data-state": "open" },
    el("span", { class: "type", text: label }),
    el("span", { class: "value", text: addition.value }),
    addition.reasoning ? el("span", { class: "why", text: addition.reasoning }) : null,
    el("span", { class: "state", "aria-live": "polite" }),
  );
  const row = el(
    "div",
    { class: "row" },
    el("button", {
      type: "button",
      class: "btn btn-small",
      text: "Accept",
      "aria-label": `Accept ${label}: ${addition.value}`,
      onclick: () => decide(card, addition, "accepted", addition.value),
    }),
    el("button", {
      type: "button",
      class: "btn btn-small",
      text: "Edit",
      "aria-label": `Edit ${label}: ${addition.value}`,
      onclick: () => startEdit(card, addition),
    }),
    el("button", {
      type: "button",
      class: "btn btn-ghost btn-small",
      text: "Reject",
      "aria-label": `Reject ${label}: ${addition.value}`,
      onclick: () => decide(card, addition, "rejected", addition.value),
    }),
  );
  card.append(row);
  return card;
}

/** POST /aurora/enhance and show the result. */
export async function enhance(prompt, level) {
  const answer = await post("/api/v1/aurora/enhance", { prompt, enhancement_level: level });
  showHonesty(answer);
  state.sessionId = answer.session_id || state.sessionId;
  const additions = (answer.additions || []).map((a) => ({ ...a, decision: "open", chosen: a.value }));
  shown = { original: answer.original_prompt || prompt, additions };
  byId("enhanced").hidden = false;
  preview();
  const meta = answer.aurora_metadata || {};
  byId("enhance-meta").textContent =
    `by ${implementationName(meta.implementation)} in ${Math.round(meta.processing_time_ms || 0)} ms` +
    (meta.cache_hit ? " (cached)" : "");
  byId("accept-all").hidden = !additions.length;
  byId("additions").replaceChildren(
    ...(additions.length
      ? additions.map(additionCard)
      : [el("li", { class: "muted", text: "Nothing to add — your prompt already says it all." })]),
  );
  return answer;
}

/** Forget the enhancement shown (sign-out). */
function clearEnhancement() {
  shown = { original: "", additions: [] };
  byId("enhanced").hidden = true;
  byId("enhanced-text").textContent = "";
  byId("enhanced").dataset.prompt = "";
  byId("enhance-meta").textContent = "";
  byId("additions").replaceChildren();
}

/** Wire "Use this" and "Accept all". */
export function initEnhance(onUse) {
  byId("use-enhanced").addEventListener("click", () => {
    const text = byId("enhanced").dataset.prompt || "";
    if (!text) return;
    setPrompt(text);
    byId("prompt").focus();
    onUse(text);
  });
  byId("accept-all").addEventListener("click", () => {
    const cards = [...byId("additions").querySelectorAll(".addition")];
    shown.additions.forEach((addition, i) => {
      if (addition.decision === "open" && cards[i]) decide(cards[i], addition, "accepted", addition.value);
    });
    byId("use-enhanced").focus();
  });
  on("signed-out", clearEnhancement);
}
