/**
 * Enhance: the enhanced prompt with "Use this", and a chip per addition to accept,
 * reject or edit. Every decision is recorded with POST /aurora/refinements.
 */

import { post } from "./api.js";
import { byId, el } from "./dom.js";
import { implementationName, showHonesty, toast } from "./notify.js";
import { applyOverride } from "./params.js";
import { state } from "./state.js";
import { setPrompt } from "./suggest.js";

/** How each addition type is labelled. */
const LABELS = {
  genre: "Genre",
  sub_genre: "Style",
  tempo: "Tempo",
  mood: "Mood",
  instrumentation: "Instruments",
  instruments: "Instruments",
  structure: "Structure",
  key: "Key",
  production: "Production",
  era: "Era",
};

/** The value the parameters hold now for an addition type, as text (the refinement's old_value). */
function currentValue(type) {
  const p = state.parameters;
  if (state.overrides[type] !== undefined) return String(state.overrides[type]);
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

function decide(card, addition, source, value) {
  const old = currentValue(addition.type);
  card.dataset.state = source;
  const status = card.querySelector(".state");
  status.textContent = source === "rejected" ? "Rejected" : source === "edited" ? `Edited to “${value}”` : "Accepted";
  card.querySelector(".value").textContent = value;
  for (const button of card.querySelectorAll(".row button")) button.disabled = true;
  if (source !== "rejected") applyOverride(addition.type, value);
  record(addition.type, old, source === "rejected" ? addition.value : value, source);
  const next = card.nextElementSibling?.querySelector("button:not([disabled])");
  if (next) next.focus();
  else byId("use-enhanced").focus();
}

function startEdit(card, addition) {
  const row = card.querySelector(".row");
  const input = el("input", {
    type: "text",
    value: addition.value,
    maxlength: "200",
    "aria-label": `Edit ${LABELS[addition.type] || addition.type}`,
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
  const label = LABELS[addition.type] || addition.type;
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
  byId("enhanced").hidden = false;
  byId("enhanced-text").textContent = answer.enhanced_prompt;
  byId("enhanced").dataset.prompt = answer.enhanced_prompt;
  const meta = answer.aurora_metadata || {};
  byId("enhance-meta").textContent =
    `by ${implementationName(meta.implementation)} in ${Math.round(meta.processing_time_ms || 0)} ms` +
    (meta.cache_hit ? " (cached)" : "");
  const additions = answer.additions || [];
  byId("additions").replaceChildren(
    ...(additions.length
      ? additions.map(additionCard)
      : [el("li", { class: "muted", text: "Nothing to add — your prompt already says it all." })]),
  );
  return answer;
}

/** Wire "Use this". */
export function initEnhance(onUse) {
  byId("use-enhanced").addEventListener("click", () => {
    const text = byId("enhanced").dataset.prompt || "";
    if (!text) return;
    setPrompt(text);
    byId("prompt").focus();
    onUse(text);
  });
}
