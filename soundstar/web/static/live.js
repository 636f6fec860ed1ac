/**
 * Live mode: the prompt (with the parameters as shaped, once analysed) played as an
 * endless piece over /api/v1/aurora/live, bar by bar
 * through Web Audio, with the tempo, energy, key and meter controls acting as it plays
 * (each change heard from the next bar the service has not yet rendered).
 *
 * Each binary frame is one block (a beat of a bar by default): a little-endian u32 header
 * length, a JSON header ({index, frames, channels, sample_rate, tempo_bpm, key, beats,
 * section, changed}), then interleaved 16-bit PCM. Blocks are scheduled back to back on
 * the AudioContext's clock.
 */

import { apiKey } from "./api.js";
import { byId } from "./dom.js";
import { state } from "./state.js";

const MIN_CHARS = 10;
const START_AHEAD_S = 0.05;
const SEND_AFTER_MS = 150;
const RATES = [22050, 32000, 44100, 48000];
/** Control id → [live control name, how its value is read from the page]. */
const CONTROLS = {
  "p-tempo": ["tempo_bpm", () => byId("p-tempo").value],
  "p-energy": ["energy_level", () => byId("p-energy").value],
  "p-tonic": ["key", () => `${byId("p-tonic").value} ${byId("p-mode").value}`],
  "p-mode": ["key", () => `${byId("p-tonic").value} ${byId("p-mode").value}`],
  "p-meter": ["time_signature", () => byId("p-meter").value],
};

let live = null; // {ws, ctx, nextTime, blocks, timers}

function status(text, state) {
  const line = byId("live-status");
  line.textContent = text;
  if (state) line.dataset.state = state;
}

/** One block's header and its audio as an AudioBuffer. */
function decode(ctx, data) {
  const size = new DataView(data).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(data, 4, size)));
  const pcm = new Int16Array(data.slice(4 + size));
  const channels = header.channels;
  const buffer = ctx.createBuffer(channels, header.frames, header.sample_rate);
  for (let c = 0; c < channels; c += 1) {
    const samples = buffer.getChannelData(c);
    for (let i = 0; i < header.frames; i += 1) samples[i] = pcm[i * channels + c] / 32767;
  }
  return { header, buffer };
}

/** Schedule a block right after the one before (or now, if playback ran dry). */
function play(data) {
  const { header, buffer } = decode(live.ctx, data);
  const source = live.ctx.createBufferSource();
  source.buffer = buffer;
  source.connect(live.ctx.destination);
  const at = Math.max(live.nextTime, live.ctx.currentTime + START_AHEAD_S);
  source.start(at);
  live.nextTime = at + buffer.duration;
  live.blocks += 1;
  const line = byId("live-status");
  line.dataset.blocks = String(live.blocks);
  line.dataset.audioTime = live.ctx.currentTime.toFixed(3);
  if (header.changed.length) line.dataset.changed = header.changed.join(",");
  status(`Playing live: ${header.section}, ${Math.round(header.tempo_bpm)} BPM, ${header.key}`, "playing");
}

function message(event) {
  if (typeof event.data !== "string") {
    play(event.data);
    return;
  }
  const answer = JSON.parse(event.data);
  if (answer.type === "ready") {
    const rate = RATES.includes(live.ctx.sampleRate) ? live.ctx.sampleRate : 44100;
    const start = { type: "start", prompt: live.prompt, sample_rate: rate };
    if (state.parameters) start.parameters = state.parameters; // as the person shaped them
    live.ws.send(JSON.stringify(start));
  } else if (answer.type === "started") {
    status(`Starting: ${Math.round(answer.tempo_bpm)} BPM, ${answer.key}…`, "starting");
  } else if (answer.type === "error") {
    byId("live-error").textContent = answer.error.message;
  } else if (answer.type === "stopped") {
    stop();
  }
}

/** Send a control's value once it has rested a moment. */
function controlMoved(id) {
  if (!live || live.ws.readyState !== WebSocket.OPEN) return;
  const [name, read] = CONTROLS[id];
  clearTimeout(live.timers[name]);
  live.timers[name] = setTimeout(() => {
    live.ws.send(JSON.stringify({ type: "set", name, value: String(read()) }));
  }, SEND_AFTER_MS);
}

function start() {
  const prompt = /** @type {HTMLTextAreaElement} */ (byId("prompt")).value.trim();
  byId("live-error").textContent = "";
  if (prompt.length < MIN_CHARS) {
    byId("live-error").textContent = `Please describe the music in at least ${MIN_CHARS} characters first.`;
    return;
  }
  const ctx = new AudioContext();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/api/v1/aurora/live`, ["soundstar", `bearer.${apiKey.get()}`]);
  ws.binaryType = "arraybuffer";
  live = { ws, ctx, prompt, nextTime: 0, blocks: 0, timers: {} };
  ws.addEventListener("message", message);
  ws.addEventListener("close", () => { if (live && live.ws === ws) stop(); });
  ws.addEventListener("error", () => { byId("live-error").textContent = "The live connection failed."; });
  byId("live-btn").textContent = "Stop live";
  byId("live-btn").setAttribute("aria-pressed", "true");
  status("Connecting…", "connecting");
}

function stop() {
  if (!live) return;
  const { ws, ctx } = live;
  live = null;
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "stop" }));
  ctx.close();
  byId("live-btn").textContent = "Live";
  byId("live-btn").setAttribute("aria-pressed", "false");
  status("Stopped.", "stopped");
}

/** Wire the Live button and the controls that act while it plays. */
export function initLive() {
  byId("live-btn").addEventListener("click", () => (live ? stop() : start()));
  for (const id of Object.keys(CONTROLS)) {
    const control = byId(id);
    control.addEventListener(control.tagName === "SELECT" ? "change" : "input", () => controlMoved(id));
  }
}
