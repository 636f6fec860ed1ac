/** The studio page: wires the panels together. */

import { initAuth } from "./auth.js";
import { byId } from "./dom.js";
import { enhance, initEnhance } from "./enhance.js";
import { generate, initGenerate } from "./generate.js";
import { initHistory } from "./history.js";
import { toast } from "./notify.js";
import { analyse, initParams } from "./params.js";
import { initPlan } from "./plan.js";
import { initPlayer } from "./player.js";
import { on, state } from "./state.js";
import { initSuggest } from "./suggest.js";

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

/** Run a button's action with the button busy, showing any error under it. */
async function busy(buttonId, errorId, action) {
  const button = /** @type {HTMLButtonElement} */ (byId(buttonId));
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = `${label}…`;
  try {
    await action();
  } catch (exc) {
    byId(errorId).textContent = exc.message;
  } finally {
    button.disabled = false;
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
    const text = promptOrSay("generate-error");
    if (text) generate(text);
  });
  // The red banner's manual controls: bring the parameter controls forward.
  on("manual-controls", async () => {
    if (!state.parameters) {
      const text = promptOrSay("describe-error");
      if (text) await busy("analyse-btn", "describe-error", () => analyse(text));
    }
    byId("params-card").scrollIntoView({ behavior: "smooth", block: "start" });
    const first = state.parameters ? byId("p-tempo") : byId("prompt");
    first.focus();
  });
}

function start() {
  initSuggest();
  initParams();
  initPlan((exc) => toast(exc.message, { error: true }));
  initEnhance(runAnalyseFor);
  initGenerate();
  initPlayer();
  initHistory();
  wireButtons();
  initAuth();
}

/** After "Use this": read the parameters of the prompt now in the box. */
function runAnalyseFor(text) {
  busy("analyse-btn", "describe-error", () => analyse(text));
}

start();
