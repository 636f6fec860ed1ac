/**
 * Generate: queue the job, follow its progress over the WebSocket (polling as the
 * fallback), then show the player, the downloads and what ran.
 */

import { fetchBlob, get, post } from "./api.js";
import { byId, el } from "./dom.js";
import { downloadButtons } from "./downloads.js";
import { describeError } from "./errors.js";
import { implementationName, showHonesty } from "./notify.js";
import { flushSliders } from "./params.js";
import { planInStep } from "./plan.js";
import { withClip } from "./clip.js";
import { loadTrack } from "./player.js";
import { emit, on, state } from "./state.js";
import { stream } from "./stream.js";

const POLL_MS = 800;
/** Waits between tries while the service cannot be reached: it may be restarting. */
const RECONNECT_MS = [1000, 2000, 4000, 8000, 10000];
/** After this long a wait says what it is waiting for. */
const SLOW_MS = 1500;
const SEED_LIMIT = 2 ** 53;

/** What each pipeline stage is called on the progress bar. */
const STAGES = {
  queued: "Waiting for a free worker",
  preprocess: "Reading your prompt",
  enhance: "Enhancing the prompt",
  parse: "Understanding the music",
  map: "Choosing parameters",
  plan: "Planning the sections",
  embed: "Encoding the controls",
  compose: "Composing",
  synthesis: "Playing the instruments",
  render: "Playing the instruments",
  mix: "Mixing",
  master: "Mastering",
  export: "Writing the files",
  completed: "Done",
  failed: "Failed",
};

let current = null;
/** The parameters the generation under way was sent with (the plan it returns fits them). */
let sentParameters = null;

/** The person's own words for what ran ("rave" is not a word they know). */
const ENGINE_STAGES = {
  preprocess: "reading the prompt",
  enhance: "enhancing",
  parse: "understanding",
  map: "choosing parameters",
  plan: "planning",
  embed: "encoding the controls",
  compose: "composing",
  synthesis: "playing the instruments",
  render: "playing the instruments",
  rave: "neural timbre",
  mix: "mixing",
  master: "mastering",
  export: "writing the files",
};
const stageWords = (stage) => ENGINE_STAGES[stage] || String(stage).replace(/[_-]+/g, " ");

/** A fallback reason in a sentence: which service was passed over and why, without the error chain. */
export function readableReason(reason) {
  if (!reason) return "";
  const names = { codex: "The AI service", local_llm: "The local AI model" };
  const seen = new Set();
  const lines = [];
  for (const part of String(reason).split(/;\s*/)) {
    const name = /^(codex|local_llm)\b/.exec(part)?.[1];
    if (!name || seen.has(name)) continue;
    seen.add(name);
    const why = /TIMEOUT/.test(part)
      ? "took too long"
      : /skipped without a call/.test(part)
        ? "is down and was skipped"
        : /UNAVAILABLE|refused|connect/i.test(part)
          ? "could not be reached"
          : /RATE_LIMITED/.test(part)
            ? "was busy"
            : "gave an answer that could not be used";
    lines.push(`${names[name]} ${why}.`);
  }
  return lines.join(" ") || "A service was unavailable.";
}

/**
 * Mark Generate busy without disabling it: a disabled button drops the keyboard focus to
 * the page, so it stays focusable and says it is busy instead.
 */
function setBusy(busy) {
  const button = byId("generate-btn");
  if (busy) button.setAttribute("aria-disabled", "true");
  else button.removeAttribute("aria-disabled");
}

/** Whether a generation is under way (Generate then does nothing). */
export const generating = () => byId("generate-btn").getAttribute("aria-disabled") === "true";

/** The seed field: a whole number, or null for a new one each time. */
function seedValue() {
  const text = /** @type {HTMLInputElement} */ (byId("g-seed")).value.trim();
  if (!text) return null;
  const seed = Number(text);
  return Number.isSafeInteger(seed) && seed >= 0 ? seed : Number.NaN;
}

/** Show a wait's words once it has lasted a moment; returns a function that clears them. */
function sayWhileWaiting(id, words) {
  const timer = setTimeout(() => { byId(id).textContent = words; }, SLOW_MS);
  return () => {
    clearTimeout(timer);
    byId(id).textContent = "";
  };
}

function stageLabel(stage, status) {
  if (status === "queued") return STAGES.queued;
  if (status === "completed" || status === "failed") return STAGES[status];
  const key = String(stage || "").split(/[.:/]/)[0];
  return STAGES[key] || (stage ? stage.replace(/[_-]+/g, " ") : "Working");
}

function showProgress(progress, stage, status) {
  const pct = Math.round(Math.min(1, Math.max(0, progress || 0)) * 100);
  byId("progress").hidden = false;
  byId("progress-fill").style.width = `${pct}%`;
  byId("progress-pct").textContent = `${pct}%`;
  byId("progress-stage").textContent = stageLabel(stage, status);
  byId("progress-bar").setAttribute("aria-valuenow", String(pct));
  byId("progress").dataset.status = status || "";
}

/** Build the generate request from the prompt and what the controls say. */
export function generateBody(prompt) {
  flushSliders();
  const seed = seedValue();
  const duration = Number(/** @type {HTMLInputElement} */ (byId("g-duration")).value);
  const body = {
    prompt,
    options: {
      enhance_prompt: /** @type {HTMLInputElement} */ (byId("g-enhance")).checked,
      duration_seconds: duration,
      output_format: /** @type {HTMLSelectElement} */ (byId("g-format")).value,
      sample_rate: Number(/** @type {HTMLSelectElement} */ (byId("g-rate")).value),
    },
  };
  if (seed !== null) body.options.seed = seed;
  if (state.parameters) body.parameters = { ...state.parameters, duration_seconds: duration };
  if (state.parameters && Object.keys(state.controls || {}).length) body.controls = { ...state.controls };
  if (state.plan) body.plan = state.plan;
  if (state.sessionId) body.session_id = state.sessionId;
  return withClip(body);
}

function engineInfo(generation) {
  const dl = el("dl");
  const add = (term, value) => {
    if (value === null || value === undefined || value === "") return;
    dl.append(el("dt", { text: term }), el("dd", {}, value));
  };
  add("Understood by", implementationName(generation.implementation_used) + (generation.fallback_used ? " (a fallback)" : ""));
  if (generation.fallback_reason) add("Why", readableReason(generation.fallback_reason));
  const ran = [...new Set((generation.stages_run || []).map(stageWords))];
  add("Steps", ran.join(", "));
  const skipped = Object.keys(generation.stages_skipped || {});
  if (skipped.length) add("Left out", [...new Set(skipped.map(stageWords))].join(", "));
  const synthesis = generation.engine?.synthesis || {};
  const voices = Object.keys(synthesis);
  if (voices.length) add("Instruments", voices.map((name) => name.replace(/[_-]+/g, " ")).join(", "));
  const meta = generation.generation_metadata || {};
  if (meta.total_time_ms) add("Time taken", `${(meta.total_time_ms / 1000).toFixed(1)} s`);
  const measured = generation.measured || {};
  if (measured.integrated_lufs !== undefined) add("Loudness", `${measured.integrated_lufs.toFixed(1)} LUFS`);
  return dl;
}

/** Key, tempo, meter, length and seed of a track, as small labels. */
export function trackFacts(generation) {
  const p = generation.parameters_used || generation.parameters || {};
  const facts = [
    p.genre ? p.genre.replace(/_/g, " ") : "",
    p.tempo_bpm ? `${Math.round(p.tempo_bpm)} BPM` : "",
    p.key || "",
    p.time_signature || "",
    generation.duration_seconds ? `${Math.round(generation.duration_seconds)} s` : "",
  ].filter(Boolean);
  const nodes = facts.map((text) => el("span", { class: "fact", text }));
  if (generation.seed !== null && generation.seed !== undefined) {
    nodes.push(el("span", { class: "fact mono", "data-seed": generation.seed, text: `seed ${generation.seed}` }));
  }
  return nodes;
}

async function finished(generation) {
  current = null;
  setBusy(false);
  byId("generate-status").textContent = "";
  showProgress(generation.progress ?? 1, generation.stage, generation.status);
  showHonesty(generation);
  if (generation.status !== "completed") {
    const error = generation.error || { code: "INTERNAL_ERROR", message: "" };
    byId("generate-error").textContent = `The track could not be made. ${describeError(error.code, error.message)}`;
    emit("generated", generation);
    return;
  }
  // The plan as it was played (refitted into the parameters' key and length when the plan
  // sent no longer fit them): the chords shown are the chords heard.
  if (generation.structural_plan) {
    emit("plan", { plan: generation.structural_plan, madeFrom: sentParameters ?? generation.parameters_used });
  }
  byId("result").hidden = false;
  byId("result").dataset.generationId = generation.generation_id;
  byId("result-title").textContent = generation.enhanced_prompt || generation.prompt || "Your track";
  byId("result-facts").replaceChildren(...trackFacts(generation));
  state.lastGeneration = { prompt: generation.prompt, seed: generation.seed, parameters: generation.parameters_used };
  byId("downloads").replaceChildren(...downloadButtons(generation));
  byId("engine-info").replaceChildren(engineInfo(generation));
  emit("generated", generation);
  try {
    const blob = await fetchBlob(generation.audio_url || generation.files.audio);
    await loadTrack(blob, generation.structural_plan);
    byId("result").dataset.ready = "true";
  } catch (exc) {
    byId("generate-error").textContent = `The track was made but could not be loaded: ${exc.message}`;
  }
}

/** Whether an error means Soundstar could not be reached (down or restarting), not a refusal. */
const unreachable = (exc) => exc && (exc.status === 0 || exc.status >= 502 || exc.code === "NETWORK_ERROR");

async function poll(id) {
  let misses = 0;
  while (current === id) {
    let generation;
    try {
      generation = await get(`/api/v1/generations/${encodeURIComponent(id)}`);
    } catch (exc) {
      if (current !== id) return;
      if (exc.status === 429) {
        await new Promise((r) => setTimeout(r, (exc.retryAfter || 1) * 1000));
        continue;
      }
      if (unreachable(exc)) {
        // The server may be restarting: keep trying, say so, and pick the job up again after.
        const wait = RECONNECT_MS[Math.min(misses, RECONNECT_MS.length - 1)];
        misses += 1;
        byId("progress").dataset.connection = "lost";
        byId("generate-status").textContent =
          `Lost contact with Soundstar (it may be restarting). Trying again in ${Math.round(wait / 1000)} s — your track keeps its place.`;
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
      current = null;
      setBusy(false);
      byId("generate-error").textContent = exc.message;
      return;
    }
    if (current !== id) return;
    if (misses) {
      misses = 0;
      byId("progress").dataset.connection = "resumed";
      byId("progress").dataset.resumed = "true";
      byId("generate-status").textContent = "Back in contact with Soundstar; following your track again.";
      stream.retryNow();
    }
    if (generation.status === "completed" || generation.status === "failed") {
      await finished(generation);
      return;
    }
    showProgress(generation.progress, generation.stage, generation.status);
    if (byId("progress").dataset.connection === "resumed" && (await resubscribe(id))) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** After a reconnect, follow the job over the socket again; false (keep polling) if it cannot. */
async function resubscribe(id) {
  try {
    await stream.subscribe(id, watcher(id));
  } catch {
    return false;
  }
  byId("progress").dataset.via = "stream";
  byId("progress").dataset.connection = "stream";
  return true;
}

function watcher(id) {
  const fallBack = () => {
    if (current !== id) return;
    byId("progress").dataset.via = "poll";
    poll(id);
  };
  return {
    onProgress: (m) => current === id && showProgress(m.progress, m.stage, m.status),
    onComplete: (g) => current === id && finished(g),
    onError: fallBack,
    onLost: fallBack,
  };
}

/** Follow a job: the socket when it works, polling otherwise (or when the socket drops). */
async function follow(id) {
  byId("progress").dataset.via = "stream";
  try {
    await stream.subscribe(id, watcher(id));
  } catch {
    byId("progress").dataset.via = "poll";
    poll(id);
  }
}

/** Start a generation. */
export async function generate(prompt) {
  const seed = seedValue();
  if (Number.isNaN(seed)) {
    byId("generate-error").textContent = `The seed is a whole number from 0 to ${SEED_LIMIT - 1}, or empty for a new one each time.`;
    byId("g-seed").focus();
    return;
  }
  byId("generate-error").textContent = "";
  delete byId("progress").dataset.resumed;
  delete byId("progress").dataset.connection;
  setBusy(true);
  showProgress(0, null, "queued");
  flushSliders();
  try {
    await planInStep();
  } catch (exc) {
    byId("generate-status").textContent = `The plan could not be made again from the parameters (${exc.message}); the service plans it instead.`;
    state.plan = null;
  }
  const body = generateBody(prompt);
  sentParameters = body.parameters ? structuredClone(body.parameters) : null;
  const done = sayWhileWaiting(
    "generate-status",
    body.options.enhance_prompt
      ? "Sending your track to Soundstar; enhancing the prompt first can take a few seconds when the AI service is slow."
      : "Sending your track to Soundstar…",
  );
  try {
    const generation = await post("/api/v1/aurora/generate", body);
    done();
    // the last track stays until a new one is on its way (a refused request keeps it)
    byId("result").hidden = true;
    byId("result").dataset.ready = "false";
    current = generation.generation_id;
    byId("progress").dataset.generationId = current;
    if (generation.status === "completed" || generation.status === "failed") await finished(generation);
    else {
      showProgress(generation.progress, generation.stage, generation.status);
      await follow(current);
    }
  } catch (exc) {
    done();
    current = null;
    setBusy(false);
    byId("progress").hidden = true;
    byId("generate-error").textContent = exc.message;
  }
}

/** "Same again" (the seed it had) or "Variation" (a new seed), with the same prompt and settings. */
function again(sameSeed) {
  const last = state.lastGeneration;
  if (!last) return;
  const seed = /** @type {HTMLInputElement} */ (byId("g-seed"));
  seed.value = sameSeed && last.seed !== null && last.seed !== undefined ? String(last.seed) : "";
  const text = /** @type {HTMLTextAreaElement} */ (byId("prompt")).value.trim() || last.prompt || "";
  if (text) generate(text);
}

/** Clear every trace of the last person's generation (sign-out). */
function clearResult() {
  current = null;
  for (const id of ["generate-error", "generate-status", "result-title"]) byId(id).textContent = "";
  byId("result-facts").replaceChildren();
  byId("downloads").replaceChildren();
  byId("engine-info").replaceChildren();
  byId("result").hidden = true;
  byId("result").dataset.ready = "false";
  delete byId("result").dataset.generationId;
  byId("progress").hidden = true;
  setBusy(false);
  /** @type {HTMLInputElement} */ (byId("g-seed")).value = "";
  /** @type {HTMLDetailsElement} */ (byId("engine-details")).open = false;
}

/** Wire the duration slider. */
export function initGenerate() {
  const duration = /** @type {HTMLInputElement} */ (byId("g-duration"));
  const show = () => { byId("g-duration-out").textContent = `${duration.value} s`; };
  show();
  duration.addEventListener("input", () => {
    show();
    emit("duration-changed", Number(duration.value));
  });
  on("duration-from-parameters", (seconds) => {
    if (!seconds) return;
    duration.value = String(Math.round(seconds));
    show();
    emit("duration-changed", Number(duration.value));
  });
  byId("same-again").addEventListener("click", () => again(true));
  byId("variation").addEventListener("click", () => again(false));
  on("signed-out", () => {
    clearResult();
    show(); // the duration went back to its first value with the other controls
  });
  on("reuse", (item) => {
    /** @type {HTMLInputElement} */ (byId("g-seed")).value = ""; // another like it, not the same one
    if (item.duration_seconds) {
      duration.value = String(Math.round(item.duration_seconds));
      show();
      emit("duration-changed", Number(duration.value));
    }
  });
}
