/**
 * The player: the track's waveform drawn on a canvas (decoded with the Web Audio API),
 * a playhead, and the section timeline under it. Audio comes as a Blob because the
 * service wants the Bearer header, which an <audio src> cannot send.
 */

import { byId, clock, el } from "./dom.js";
import { on } from "./state.js";

const ACCENT = "#8b7bff";
const PLAYED = "#c9c1ff";
const MUTED = "#3a3f4d";

/** @type {{min: Float32Array, max: Float32Array} | null} */
let peaks = null;
let objectUrl = "";

const audio = () => /** @type {HTMLAudioElement} */ (byId("audio"));
const canvas = () => /** @type {HTMLCanvasElement} */ (byId("waveform"));

/**
 * Min/max per column of the first channel (mixed down when stereo).
 * @param {AudioBuffer} buffer
 * @param {number} columns
 */
export function computePeaks(buffer, columns) {
  const channels = [];
  for (let c = 0; c < buffer.numberOfChannels; c++) channels.push(buffer.getChannelData(c));
  const length = buffer.length;
  const min = new Float32Array(columns);
  const max = new Float32Array(columns);
  const per = Math.max(1, Math.floor(length / columns));
  for (let col = 0; col < columns; col++) {
    let lo = 1;
    let hi = -1;
    const start = col * per;
    const end = Math.min(length, start + per);
    for (let i = start; i < end; i++) {
      let v = 0;
      for (const data of channels) v += data[i];
      v /= channels.length;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    min[col] = start < end ? lo : 0;
    max[col] = start < end ? hi : 0;
  }
  return { min, max };
}

function draw() {
  const node = canvas();
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.floor(node.clientWidth * ratio));
  const height = Math.max(1, Math.floor(node.clientHeight * ratio));
  if (node.width !== width) node.width = width;
  if (node.height !== height) node.height = height;
  const ctx = node.getContext("2d");
  if (!ctx) return;
  ctx.clearRect(0, 0, width, height);
  const mid = height / 2;
  if (!peaks) {
    ctx.fillStyle = MUTED;
    ctx.fillRect(0, mid - 1, width, 2);
    return;
  }
  const player = audio();
  const played = player.duration ? player.currentTime / player.duration : 0;
  const columns = peaks.min.length;
  const barWidth = width / columns;
  for (let col = 0; col < columns; col++) {
    const x = col * barWidth;
    const top = mid - Math.max(0.01, peaks.max[col]) * mid * 0.95;
    const bottom = mid - Math.min(-0.01, peaks.min[col]) * mid * 0.95;
    ctx.fillStyle = col / columns < played ? PLAYED : ACCENT;
    ctx.fillRect(x, top, Math.max(1, barWidth - 0.5), bottom - top);
  }
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(Math.floor(played * width), 0, Math.max(1, ratio), height);
}

function updateTime() {
  const player = audio();
  byId("play-time").textContent = `${clock(player.currentTime)} / ${clock(player.duration || 0)}`;
  draw();
}

function syncButton() {
  const playing = !audio().paused;
  byId("play-icon").textContent = playing ? "❚❚" : "▶";
  byId("play-btn").setAttribute("aria-label", playing ? "Pause" : "Play");
}

/** The section timeline under the waveform: one block per plan section. */
function timeline(plan) {
  const box = byId("result-timeline");
  if (!plan) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(
    ...plan.sections.map((s) => {
      const seg = el("span", { class: "seg", text: s.name.replace(/[_-]+/g, " "), title: `${s.name} · energy ${s.energy_level.toFixed(2)}` });
      seg.style.flex = `${s.duration_ratio} 1 0`;
      seg.style.borderTopColor = `rgba(139, 123, 255, ${0.3 + 0.7 * s.energy_level})`;
      return seg;
    }),
  );
}

/**
 * Load a track into the player and draw its waveform.
 * @param {Blob} blob the audio file
 * @param {any} plan StructuralPlan JSON, for the timeline
 */
export async function loadTrack(blob, plan) {
  const player = audio();
  player.pause();
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = URL.createObjectURL(blob);
  player.src = objectUrl;
  player.load();
  peaks = null;
  timeline(plan);
  syncButton();
  updateTime();
  try {
    const data = await blob.arrayBuffer();
    const context = new OfflineAudioContext(1, 1, 44100);
    const buffer = await context.decodeAudioData(data);
    peaks = computePeaks(buffer, 600);
    canvas().dataset.decoded = String(buffer.duration.toFixed(2));
  } catch {
    canvas().dataset.decoded = "failed"; // the browser cannot decode this format: the line stays flat
  }
  draw();
}

/** Play or pause. */
export function toggle() {
  const player = audio();
  if (player.paused) player.play().catch(() => {});
  else player.pause();
}

function seekTo(fraction) {
  const player = audio();
  if (!player.duration) return;
  player.currentTime = Math.min(player.duration, Math.max(0, fraction * player.duration));
  updateTime();
}

/** Empty the player (sign-out): nothing of the last person's track stays to be played. */
function unload() {
  const player = audio();
  player.pause();
  player.removeAttribute("src");
  player.load();
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = "";
  peaks = null;
  delete canvas().dataset.decoded;
  timeline(null);
  syncButton();
  updateTime();
}

/** Wire the player controls. */
export function initPlayer() {
  const player = audio();
  // One track at a time: starting any player on the page pauses the others.
  document.addEventListener(
    "play",
    (event) => {
      for (const other of document.querySelectorAll("audio")) if (other !== event.target) other.pause();
    },
    true,
  );
  on("signed-out", () => {
    for (const other of document.querySelectorAll("audio")) other.pause();
    unload();
  });
  byId("play-btn").addEventListener("click", toggle);
  for (const event of ["play", "pause", "ended"]) player.addEventListener(event, () => { syncButton(); updateTime(); });
  player.addEventListener("timeupdate", updateTime);
  player.addEventListener("loadedmetadata", updateTime);
  canvas().addEventListener("click", (event) => {
    const rect = canvas().getBoundingClientRect();
    seekTo((event.clientX - rect.left) / rect.width);
  });
  canvas().addEventListener("keydown", (event) => {
    if (!player.duration) return;
    const step = 5 / player.duration;
    const at = player.currentTime / player.duration;
    if (event.key === "ArrowRight") seekTo(at + step);
    else if (event.key === "ArrowLeft") seekTo(at - step);
    else if (event.key === " " || event.key === "Enter") toggle();
    else return;
    event.preventDefault();
  });
  window.addEventListener("resize", draw);
}
