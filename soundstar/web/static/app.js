/** The studio page: wires the panels together. */

import { initAuth } from "./auth.js";
import { initClip } from "./clip.js";
import { byId } from "./dom.js";
import { initEdit } from "./edit.js";
import { enhance, initEnhance } from "./enhance.js";
import { generate, generating, initGenerate } from "./generate.js";
import { initHistory } from "./history.js";
import { initLive } from "./live.js";
import { showNotUnderstood, toast } from "./notify.js";
import { analyse, catalogueReady, initParams, showParameters } from "./params.js";
import { initPlan } from "./plan.js";
import { initPlayer } from "./player.js";
import { emit, on, state } from "./state.js";
import { initSuggest, setPrompt } from "./suggest.js";

const MIN_CHARS = 10;

/** The prompt, or null with a message when it is too short to use. */
function promptOrSay(errorId) {
  const text = /** @type {HTMLTextAreaElement} */ (byId("prompt")).value.trim();
  if (text.length < MIN_CHARS) {
    byId(errorId).textContent = `Please describe the music in at least ${MIN_CHARS} characters — for example a genre, a mood and an instrument.`;
    byId("prompt").focus();
    return null;
  }
  byId(errorId).textContent = "";
  return text;
}

/** What a wait is for, said once it has lasted a moment. */
const WAIT_WORDS = {
  "enhance-btn": "Asking the AI service for ideas… If it does not answer, Soundstar uses its built-in music knowledge.",
  "analyse-btn": "Reading the tempo, key and instruments from your prompt…",
};
const SLOW_MS = 1500;

/**
 * Run a button's action with the button busy, showing any error under it. The button
 * stays focusable (aria-disabled, not disabled), so the keyboard focus stays where it was.
 */
async function busy(buttonId, errorId, action) {
  const button = /** @type {HTMLButtonElement} */ (byId(buttonId));
  if (button.getAttribute("aria-disabled") === "true") return;
  const label = button.textContent;
  button.setAttribute("aria-disabled", "true");
  button.setAttribute("aria-busy", "true");
  button.textContent = `${label}…`;
  const status = byId("describe-status");
  const timer = setTimeout(() => { status.textContent = WAIT_WORDS[buttonId] || "Working…"; }, SLOW_MS);
  try {
    await action();
  } catch (exc) {
    if (exc.code === "INVALID_PROMPT") emit("not-understood", exc);
    byId(errorId).textContent = exc.message;
  } finally {
    clearTimeout(timer);
    status.textContent = "";
    button.removeAttribute("aria-disabled");
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

function wireButtons() {
  byId("enhance-btn").addEventListener("click", () => {
    const text = promptOrSay("describe-error");
    if (text) busy("enhance-btn", "describe-error", () => enhance(text, byId("enhance-level").value));
  });
  const runAnalyse = () => {
    const text = promptOrSay("describe-error");
    if (text) busy("analyse-btn", "describe-error", () => analyse(text));
  };
  byId("analyse-btn").addEventListener("click", runAnalyse);
  byId("reanalyse").addEventListener("click", runAnalyse);
  byId("generate-btn").addEventListener("click", () => {
    if (generating()) return;
    const text = promptOrSay("generate-error");
    if (text) generate(text);
  });
  on("not-understood", showNotUnderstood);
  // "Make another like this": the track's prompt and parameters, ready to generate again.
  on("reuse", async (item) => {
    setPrompt(item.original_prompt);
    if (item.parameters) {
      await catalogueReady();
      showParameters(item.parameters);
      state.analysedPrompt = item.original_prompt;
      byId("params-stale").hidden = true;
      if (!state.plan) emit("plan-wanted");
    }
    byId("generate-btn").focus();
    toast("The prompt and settings of that track are set: press Generate for another like it.");
  });
  // The red banner's manual controls: bring the parameter controls forward. With nothing
  // read at all (the service refused the prompt) there are no values to adjust yet.
  on("manual-controls", () => {
    if (!state.parameters) {
      byId("describe-error").textContent =
        "Nothing could be read from this prompt, so there are no parameters to adjust yet. Name a genre, a mood or an instrument (or pick an example), then press Analyse.";
      byId("examples").hidden = false;
      byId("prompt").focus();
      return;
    }
    byId("params-card").scrollIntoView({ behavior: "smooth", block: "start" });
    byId("p-tempo").focus();
  });
}

function start() {
  initSuggest();
  initParams();
  initPlan((exc) => toast(exc.message, { error: true }));
  initEnhance(runAnalyseFor);
  initGenerate();
  initClip();
  initPlayer();
  initEdit();
  initHistory();
  initLive();
  wireButtons();
  initAuth();
}

/** After "Use this": read the parameters of the prompt now in the box. */
function runAnalyseFor(text) {
  busy("analyse-btn", "describe-error", () => analyse(text));
}

start();
