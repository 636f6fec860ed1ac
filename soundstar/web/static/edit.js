/**
 * Edit the track shown: remake a section (from the timeline or its button), extend it,
 * or play it again differently. Each edit is a new generation; the panel says which
 * sections changed and which stayed sample-identical.
 */

import { fetchBlob, get, post } from "./api.js";
import { byId, clock, el } from "./dom.js";
import { downloadButtons } from "./downloads.js";
import { trackFacts } from "./generate.js";
import { loadTrack } from "./player.js";
import { on } from "./state.js";

const POLL_MS = 500;
const WAIT_S = 30;
const MAX_SECONDS = 600;

/** @type {{id: string, project: any} | null} */
let shown = null;
let running = false;

const sectionLabel = (project, n) => `${n} (${project.sections[n - 1].name})`;
/** A time to a tenth of a second, m:ss.s (joins are tens of milliseconds long). */
const at = (s) => `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
const spans = (list) => list.map(([a, b]) => `${at(a)}–${at(b)}`).join(", ");

/** What the last edit of a project changed and what it kept, in words. */
export function editSummary(project) {
  const last = project.history[project.history.length - 1];
  if (!last || last.kind === "generate") return "";
  const changed = last.sections.map((n) => sectionLabel(project, n)).join(", ") || "none";
  const kept = last.kept.map((n) => sectionLabel(project, n)).join(", ") || "none";
  const lines = {
    remake: `Remade section ${changed}.`,
    extend: `Extended to ${clock(project.duration_seconds)}: new sections ${changed}, ending with ${project.sections[project.sections.length - 1].name}.`,
    vary: "Variation: every part written anew; the plan, instruments, tempo and key are kept.",
  };
  const parts = [lines[last.kind] || "", `Kept: ${kept}.`];
  if (last.identical_seconds.length) parts.push(`Sample-identical to the track before: ${spans(last.identical_seconds)}.`);
  if (last.joins_seconds.length) parts.push(`Joined at ${spans(last.joins_seconds)}.`);
  return parts.join(" ");
}

async function finishedJob(id) {
  for (;;) {
    const job = await get(`/api/v1/generations/${encodeURIComponent(id)}`);
    if (job.status === "completed" || job.status === "failed") return job;
    byId("edit-status").textContent = `${job.stage || "Queued"}…`;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The section buttons, and the timeline's segments as remake buttons too. */
function showSections() {
  const box = byId("edit-sections");
  if (!shown) {
    box.replaceChildren();
    return;
  }
  const { project } = shown;
  box.replaceChildren(
    ...project.sections.map((s, i) =>
      el("button", {
        type: "button",
        class: "btn btn-small",
        "data-remake": String(i + 1),
        "aria-label": `Remake section ${i + 1} (${s.name})`,
        title: `${clock(s.start_seconds)}–${clock(s.end_seconds)}`,
        text: `↻ ${s.name}`,
        onclick: () => remake(i + 1),
      }),
    ),
  );
  byId("edit-to").min = String(Math.ceil(project.duration_seconds + 1));
  byId("edit-to").value = String(Math.min(MAX_SECONDS, Math.round(project.duration_seconds * 2)));
  decorateTimeline();
}

/** Each timeline segment (drawn by the player) remakes its section when clicked. */
function decorateTimeline() {
  if (!shown) return;
  const segments = byId("result-timeline").querySelectorAll(".seg");
  if (segments.length !== shown.project.sections.length) return;
  segments.forEach((seg, i) => {
    if (seg.dataset.remake) return;
    seg.dataset.remake = String(i + 1);
    seg.setAttribute("role", "button");
    seg.setAttribute("tabindex", "0");
    seg.setAttribute("aria-label", `Remake section ${i + 1}`);
    seg.addEventListener("click", () => remake(i + 1));
    seg.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        remake(i + 1);
      }
    });
  });
}

async function show(generationId) {
  const project = await get(`/api/v1/generations/${encodeURIComponent(generationId)}/project`);
  shown = { id: generationId, project };
  byId("edit-panel").hidden = false;
  showSections();
  return project;
}

/** Queue an edit of the track shown, wait for it, and load the new track in its place. */
async function run(path, body, words) {
  if (!shown || running) return;
  running = true;
  const panel = byId("edit-panel");
  panel.setAttribute("aria-busy", "true");
  byId("edit-error").textContent = "";
  byId("edit-status").textContent = words;
  try {
    const source = encodeURIComponent(shown.id);
    let job = await post(`/api/v1/generations/${source}/${path}`, { ...body, wait_seconds: WAIT_S });
    if (job.status !== "completed" && job.status !== "failed") job = await finishedJob(job.generation_id);
    if (job.status === "failed") {
      byId("edit-error").textContent = job.error ? job.error.message : "The edit failed.";
      return;
    }
    const blob = await fetchBlob(job.audio_url || job.files.audio);
    await loadTrack(blob, job.structural_plan);
    byId("result").dataset.generationId = job.generation_id;
    byId("downloads").replaceChildren(...downloadButtons(job));
    byId("result-facts").replaceChildren(...trackFacts(job));
    const project = await show(job.generation_id);
    byId("edit-summary").textContent = editSummary(project);
  } catch (exc) {
    byId("edit-error").textContent = exc.message;
  } finally {
    running = false;
    panel.removeAttribute("aria-busy");
    byId("edit-status").textContent = "";
  }
}

function remake(n) {
  const name = shown ? shown.project.sections[n - 1].name : "";
  return run(`sections/${n}/remake`, {}, `Remaking section ${n} (${name})…`);
}

function extend() {
  const to = Number(/** @type {HTMLInputElement} */ (byId("edit-to")).value);
  if (!shown || !(to > shown.project.duration_seconds) || to > MAX_SECONDS) {
    byId("edit-error").textContent = `Extend to more than ${clock(shown ? shown.project.duration_seconds : 0)} and at most ${MAX_SECONDS} s.`;
    return undefined;
  }
  return run("extend", { to_seconds: to }, `Extending to ${clock(to)}…`);
}

/** Wire the edit panel: it follows the track the page shows. */
export function initEdit() {
  byId("edit-extend").addEventListener("click", extend);
  byId("edit-vary").addEventListener("click", () => run("vary", {}, "Playing it again differently…"));
  new MutationObserver(decorateTimeline).observe(byId("result-timeline"), { childList: true });
  on("generated", async (generation) => {
    shown = null;
    byId("edit-summary").textContent = "";
    byId("edit-error").textContent = "";
    byId("edit-panel").hidden = true;
    if (generation.status !== "completed" || !(generation.files || {}).project) return;
    try {
      await show(generation.generation_id);
    } catch {
      byId("edit-panel").hidden = true; // an older track without a project: nothing to edit
    }
  });
  on("signed-out", () => {
    shown = null;
    byId("edit-panel").hidden = true;
    byId("edit-sections").replaceChildren();
    for (const id of ["edit-summary", "edit-error", "edit-status"]) byId(id).textContent = "";
  });
}
