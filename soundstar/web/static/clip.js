/**
 * Loop and "like this clip": the generate request's `loop` / `bars` and `like` options, and
 * after each generation what stayed and what changed.
 *
 * The clip is sent as the body of POST /api/v1/analyze (decoded there in memory, never
 * stored); its analysis is kept on this page only, and passed as `like` with the next
 * generation until it is removed.
 */

import { ApiError, apiKey } from "./api.js";
import { byId, el } from "./dom.js";
import { on } from "./state.js";

const CLIP_TYPES = ["audio/wav", "audio/x-wav", "audio/wave", "audio/flac", "audio/x-flac", "audio/mpeg", "audio/mp3"];
/** @type {Record<string, any> | null} */
let heard = null;

/** The generate body with the loop and clip options the page's controls say. */
export function withClip(body) {
  const loop = /** @type {HTMLInputElement} */ (byId("g-loop")).checked;
  if (loop) {
    body.options.loop = true;
    body.options.bars = Number(/** @type {HTMLInputElement} */ (byId("g-bars")).value) || 8;
  }
  if (heard) body.like = heard;
  return body;
}

/** Upload the clip and show what was heard in it. */
async function analyseClip(file) {
  const status = byId("clip-status");
  byId("clip-error").textContent = "";
  heard = null;
  byId("clip-heard").replaceChildren();
  byId("clip-clear").hidden = true;
  if (!file) return;
  status.textContent = `Listening to ${file.name}…`;
  const kind = CLIP_TYPES.includes(file.type) ? file.type : "application/octet-stream";
  const headers = { Accept: "application/json", "Content-Type": kind };
  const key = apiKey.get();
  if (key) headers.Authorization = `Bearer ${key}`;
  try {
    const response = await fetch("/api/v1/analyze", { method: "POST", headers, body: file });
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      const message = answer?.error?.message || response.statusText;
      throw new ApiError(response.status, answer?.error?.code || "ERROR", message);
    }
    heard = answer;
    status.textContent = `Heard in ${file.name} — your next track takes these where your prompt does not say:`;
    byId("clip-heard").replaceChildren(...facts(answer));
    byId("clip-clear").hidden = false;
  } catch (exc) {
    status.textContent = "";
    byId("clip-error").textContent = `That clip could not be used: ${exc.message}`;
  }
}

function facts(answer) {
  return [
    ["Tempo", `${answer.tempo_bpm} BPM`],
    ["Key", answer.key],
    ["Meter", answer.time_signature],
    ["Energy", Number(answer.energy_level).toFixed(2)],
    ["Loudness", `${answer.integrated_lufs} LUFS`],
    ["Brightness", `${Math.round(answer.brightness_hz)} Hz`],
  ].map(([name, value]) => el("li", { "data-fact": name.toLowerCase() }, el("strong", { text: `${name}: ` }), String(value)));
}

/** After a generation: for the clip and the loop, what stayed (the prompt's) and what changed. */
function report(generation) {
  const list = byId("clip-report");
  list.replaceChildren();
  if (generation.status !== "completed") return;
  const used = generation.parameters_used || {};
  const rows = [];
  if (heard) {
    const pairs = [
      ["tempo", heard.tempo_bpm, used.tempo_bpm, (a, b) => Math.abs(a - b) < 0.01, " BPM"],
      ["key", heard.key, used.key, (a, b) => a === b, ""],
      ["meter", heard.time_signature, used.time_signature, (a, b) => a === b, ""],
      ["energy", heard.energy_level, used.energy_level, (a, b) => Math.abs(a - b) < 0.01, ""],
    ];
    for (const [name, clip, track, same, unit] of pairs) {
      const taken = track !== undefined && same(clip, track);
      rows.push(el("li", { "data-changed": taken ? "clip" : "kept" },
        taken ? `${name}: ${clip}${unit} from the clip` : `${name}: ${track}${unit} kept (your prompt or controls say so; the clip had ${clip}${unit})`));
    }
  }
  const loop = /** @type {HTMLInputElement} */ (byId("g-loop")).checked;
  if (loop && used.tempo_bpm) {
    const bars = Number(/** @type {HTMLInputElement} */ (byId("g-bars")).value) || 8;
    rows.push(el("li", { "data-changed": "loop" },
      `loop: ${bars} bars at exactly ${used.tempo_bpm} BPM (${Number(generation.duration_seconds ?? 0).toFixed(2)} s); the tails are wrapped onto the start, so it repeats without a gap — the download's name carries the tempo`));
  }
  list.replaceChildren(...rows);
  list.hidden = rows.length === 0;
}

/** Wire the loop switch, the clip picker and the report. */
export function initClip() {
  const loop = /** @type {HTMLInputElement} */ (byId("g-loop"));
  const bars = /** @type {HTMLInputElement} */ (byId("g-bars"));
  const sync = () => { bars.disabled = !loop.checked; };
  loop.addEventListener("change", sync);
  sync();
  const picker = /** @type {HTMLInputElement} */ (byId("clip-file"));
  picker.addEventListener("change", () => analyseClip(picker.files?.[0] ?? null));
  byId("clip-clear").addEventListener("click", () => {
    picker.value = "";
    analyseClip(null);
    byId("clip-status").textContent = "";
  });
  on("generated", report);
  on("signed-out", () => {
    picker.value = "";
    analyseClip(null);
    byId("clip-status").textContent = "";
    byId("clip-report").replaceChildren();
  });
}
