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
import { loadTrack } from "./player.js";
import { emit, on, state } from "./state.js";
import { stream } from "./stream.js";

const POLL_MS = 800;

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
  if (state.parameters) body.parameters = { ...state.parameters, duration_seconds: duration };
  if (state.plan) body.plan = state.plan;
  if (state.sessionId) body.session_id = state.sessionId;
  return body;
}

function engineInfo(generation) {
  const dl = el("dl");
  const add = (term, value) => {
    if (value === null || value === undefined || value === "") return;
    dl.append(el("dt", { text: term }), el("dd", {}, value));
  };
  add("Analysis", implementationName(generation.implementation_used) + (generation.fallback_used ? " (fallback)" : ""));
  if (generation.fallback_reason) add("Why", generation.fallback_reason);
  const ran = el("ul", { class: "stage-list", "aria-label": "Stages that ran" },
    ...(generation.stages_run || []).map((s) => el("li", { class: "stage ran", text: s })));
  add("Stages run", ran);
  const skipped = Object.entries(generation.stages_skipped || {});
  if (skipped.length) {
    add("Skipped", el("ul", { class: "stage-list", "aria-label": "Stages skipped" },
      ...skipped.map(([s, why]) => el("li", { class: "stage skipped", text: s, title: why }))));
    add("Because", skipped.map(([s, why]) => `${s}: ${why}`).join("; "));
  }
  const synthesis = generation.engine?.synthesis || {};
  const voices = Object.entries(synthesis);
  if (voices.length) add("Instruments", voices.map(([name, how]) => `${name} — ${how}`).join(", "));
  const meta = generation.generation_metadata || {};
  if (meta.total_time_ms) add("Time", `${(meta.total_time_ms / 1000).toFixed(1)} s`);
  const measured = generation.measured || {};
  if (measured.integrated_lufs !== undefined) add("Loudness", `${measured.integrated_lufs.toFixed(1)} LUFS`);
  return dl;
}

async function finished(generation) {
  current = null;
  byId("generate-btn").disabled = false;
  showProgress(generation.progress ?? 1, generation.stage, generation.status);
  showHonesty(generation);
  if (generation.status !== "completed") {
    const error = generation.error || { code: "INTERNAL_ERROR", message: "" };
    byId("generate-error").textContent = `The track could not be made. ${describeError(error.code, error.message)}`;
    emit("generated", generation);
    return;
  }
  if (generation.structural_plan && !state.plan) emit("plan", generation.structural_plan);
  byId("result").hidden = false;
  byId("result").dataset.generationId = generation.generation_id;
  byId("result-title").textContent = generation.enhanced_prompt || generation.prompt || "Your track";
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

async function poll(id) {
  while (current === id) {
    let generation;
    try {
      generation = await get(`/api/v1/generations/${encodeURIComponent(id)}`);
    } catch (exc) {
      if (exc.status === 429) {
        await new Promise((r) => setTimeout(r, (exc.retryAfter || 1) * 1000));
        continue;
      }
      current = null;
      byId("generate-btn").disabled = false;
      byId("generate-error").textContent = exc.message;
      return;
    }
    if (current !== id) return;
    if (generation.status === "completed" || generation.status === "failed") {
      await finished(generation);
      return;
    }
    showProgress(generation.progress, generation.stage, generation.status);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Follow a job: the socket when it works, polling otherwise (or when the socket drops). */
async function follow(id) {
  byId("progress").dataset.via = "stream";
  try {
    await stream.subscribe(id, {
      onProgress: (m) => current === id && showProgress(m.progress, m.stage, m.status),
      onComplete: (g) => current === id && finished(g),
      onError: () => current === id && (byId("progress").dataset.via = "poll", poll(id)),
      onLost: () => current === id && (byId("progress").dataset.via = "poll", poll(id)),
    });
  } catch {
    byId("progress").dataset.via = "poll";
    poll(id);
  }
}

/** Start a generation. */
export async function generate(prompt) {
  byId("generate-error").textContent = "";
  byId("result").hidden = true;
  byId("result").dataset.ready = "false";
  byId("generate-btn").disabled = true;
  showProgress(0, null, "queued");
  try {
    const generation = await post("/api/v1/aurora/generate", generateBody(prompt));
    current = generation.generation_id;
    byId("progress").dataset.generationId = current;
    if (generation.status === "completed" || generation.status === "failed") await finished(generation);
    else {
      showProgress(generation.progress, generation.stage, generation.status);
      await follow(current);
    }
  } catch (exc) {
    current = null;
    byId("generate-btn").disabled = false;
    byId("progress").hidden = true;
    byId("generate-error").textContent = exc.message;
  }
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
  on("signed-out", () => { current = null; });
}
