/**
 * The plan: section timeline (names, lengths, energy curve) and chord progression as SVG.
 * Section energy is editable; the edited plan is what is generated.
 */

import { post } from "./api.js";
import { byId, el, svg } from "./dom.js";
import { showHonesty } from "./notify.js";
import { emit, on, state } from "./state.js";
import { debounce } from "./timing.js";

const DEFAULT_WIDTH = 640;
const HEIGHT = 150;
const BAR_TOP = 96;
const BAR_HEIGHT = 44;
const CURVE_TOP = 10;
const CURVE_BOTTOM = 86;
const STEP = 0.05;
/** How long the parameters rest before the plan is made again from them. */
const REPLAN_DEBOUNCE_MS = 400;

let selected = 0;

/** The length that will be generated: the duration control says it. */
function durationSeconds() {
  return Number(/** @type {HTMLInputElement} */ (byId("g-duration")).value) || state.parameters?.duration_seconds || 30;
}

const title = (name) => name.replace(/[_-]+/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());

/**
 * Draw sections as blocks sized by duration_ratio, with the energy curve above.
 * @param {any} plan StructuralPlan JSON
 * @param {number} seconds total length, for the section lengths shown
 * @param {number} [chosen] the selected section
 * @param {number} [width] the width it is shown at, in CSS pixels
 * @returns {SVGSVGElement}
 */
export function planFigure(plan, seconds, chosen = -1, width = DEFAULT_WIDTH) {
  const span = Math.max(240, Math.round(width)); // drawn at the size shown, so the text stays legible
  const figure = svg("svg", {
    viewBox: `0 0 ${span} ${HEIGHT}`,
    role: "img",
    "aria-label": `Plan: ${plan.sections
      .map((s) => `${title(s.name)} ${Math.round(s.duration_ratio * seconds)} s, energy ${s.energy_level.toFixed(2)}`)
      .join("; ")}`,
  });
  let x = 0;
  const points = [];
  plan.sections.forEach((section, i) => {
    const w = section.duration_ratio * span;
    const y = CURVE_BOTTOM - section.energy_level * (CURVE_BOTTOM - CURVE_TOP);
    points.push([x + w / 2, y]);
    const group = svg("g", { class: "sec", "data-index": i });
    group.append(
      svg("rect", {
        class: `sec-rect${i === chosen ? " selected" : ""}`,
        x: x + 1,
        y: BAR_TOP,
        width: Math.max(1, w - 2),
        height: BAR_HEIGHT,
        rx: 6,
      }),
    );
    if (w > 34) {
      group.append(svg("text", { class: "sec-label", x: x + 7, y: BAR_TOP + 18, text: title(section.name) }));
      group.append(
        svg("text", { class: "sec-len", x: x + 7, y: BAR_TOP + 34, text: `${Math.round(section.duration_ratio * seconds)} s` }),
      );
    }
    group.append(svg("title", { text: `${title(section.name)}: ${section.description || ""}` }));
    figure.append(group);
    x += w;
  });
  if (points.length) {
    const line = points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
    const first = points[0];
    const last = points[points.length - 1];
    figure.append(
      svg("polygon", {
        class: "energy-area",
        points: `${first[0].toFixed(1)},${CURVE_BOTTOM} ${line} ${last[0].toFixed(1)},${CURVE_BOTTOM}`,
      }),
    );
    figure.append(svg("polyline", { class: "energy-line", points: line }));
    for (const [px, py] of points) figure.append(svg("circle", { class: "energy-dot", cx: px, cy: py, r: 4 }));
  }
  return figure;
}

function changeEnergy(i, delta) {
  const section = state.plan.sections[i];
  const value = Math.round(Math.min(1, Math.max(0, section.energy_level + delta)) * 100) / 100;
  if (value === section.energy_level) return;
  section.energy_level = value;
  state.planEdited = true;
  render(true);
  emit("plan-edited", state.plan);
}

function render(keepFocus = false) {
  const plan = state.plan;
  if (!plan) return;
  byId("plan-empty").hidden = true;
  byId("plan").hidden = false;
  const holder = byId("plan-figure");
  holder.replaceChildren(planFigure(plan, durationSeconds(), selected, holder.clientWidth || DEFAULT_WIDTH));
  const editor = byId("plan-editor");
  const focused = keepFocus ? document.activeElement?.dataset?.index : undefined;
  editor.replaceChildren(
    ...plan.sections.map((section, i) => {
      const button = el(
        "button",
        {
          type: "button",
          class: "btn btn-small sec-btn",
          "data-index": i,
          "aria-pressed": i === selected ? "true" : "false",
          "aria-label": `${title(section.name)}, energy ${section.energy_level.toFixed(2)}. Up or Down arrow changes it.`,
        },
        el("span", { text: title(section.name) }),
        el("span", { class: "lvl", text: section.energy_level.toFixed(2) }),
      );
      button.addEventListener("click", () => {
        selected = i;
        render(true);
      });
      button.addEventListener("keydown", (event) => {
        if (event.key === "ArrowUp" || event.key === "ArrowDown") {
          event.preventDefault();
          selected = i;
          changeEnergy(i, event.key === "ArrowUp" ? STEP : -STEP);
        }
      });
      return button;
    }),
    el("button", {
      type: "button",
      class: "btn btn-small",
      text: "Lower",
      "aria-label": "Lower the selected section's energy",
      onclick: () => changeEnergy(selected, -STEP),
    }),
    el("button", {
      type: "button",
      class: "btn btn-small",
      text: "Raise",
      "aria-label": "Raise the selected section's energy",
      onclick: () => changeEnergy(selected, STEP),
    }),
  );
  if (focused !== undefined) editor.querySelector(`[data-index="${focused}"]`)?.focus();
  const progression = plan.chord_progression;
  byId("chords").replaceChildren(
    el("span", { class: "chords-key", text: `${progression.key} ${progression.mode}:` }),
    ...progression.chords.map((chord) => el("span", { class: "chord", text: chord })),
  );
}

/**
 * The fields of the parameters a plan is made from (the plan endpoint's body).
 * @param {any} p MusicalParameters JSON
 */
export function planFields(p) {
  return {
    genre: p.genre,
    sub_genre: p.sub_genre || undefined,
    mood: p.mood.length ? p.mood.join(", ") : "calm",
    tempo_bpm: p.tempo_bpm,
    duration_seconds: p.duration_seconds,
    key: p.key,
    time_signature: p.time_signature,
    energy_level: p.energy_level,
    structure: p.structure,
    instrumentation: p.instrumentation.map((i) => i.name),
  };
}

const basisOf = (p) => (p ? JSON.stringify(planFields(p)) : "");

/** Whether the shown plan was made from other parameters than the controls say now. */
export function planIsStale() {
  return Boolean(state.plan && state.parameters && basisOf(state.parameters) !== state.planBasis);
}

/** Say what the plan is: in step with the parameters, being remade, or stale (edited by hand). */
function showFreshness(message = "") {
  const stale = planIsStale() && state.planEdited;
  byId("plan-stale").hidden = !stale;
  byId("plan-card").dataset.fresh = planIsStale() ? "stale" : "fresh";
  byId("plan-status").textContent = message;
}

/**
 * Show a plan (from parse, plan or generate).
 * @param {any} plan StructuralPlan JSON
 * @param {any} [madeFrom] the parameters it was made from (default: those shown now)
 */
export function showPlan(plan, madeFrom) {
  state.plan = structuredClone(plan);
  state.planBasis = basisOf(madeFrom || state.parameters);
  state.planEdited = false;
  selected = Math.min(selected, plan.sections.length - 1);
  render();
  followParameters();
}

/** POST /aurora/plan from the parameters as they are now. */
export async function replan() {
  const p = state.parameters;
  if (!p) return;
  const basis = structuredClone(p);
  showFreshness("Making the plan from the parameters…");
  const answer = await post("/api/v1/aurora/plan", { parameters: planFields(basis) });
  if (state.parameters === null) return; // signed out meanwhile
  showHonesty(answer);
  showPlan(answer.structural_plan, basis);
}

/**
 * Before generating: a plan not edited by hand that is behind the parameters is made again
 * now, so the plan sent is the plan for the parameters sent (an edited one is sent as it is,
 * marked stale on the page).
 */
export async function planInStep() {
  if (!planIsStale() || state.planEdited) return;
  replanSoon.cancel();
  await replan();
}

let onReplanError = (exc) => console.error(exc);
const replanSoon = debounce(() => replan().catch((exc) => onReplanError(exc)), REPLAN_DEBOUNCE_MS);

/** The plan follows the parameters: remade when it was not edited, marked stale when it was. */
function followParameters() {
  if (!planIsStale()) {
    replanSoon.cancel();
    showFreshness();
    return;
  }
  if (state.planEdited) {
    showFreshness();
    return;
  }
  showFreshness("The parameters changed: making the plan again…");
  replanSoon();
}

/** Wire the plan panel. */
export function initPlan(onError) {
  onReplanError = (exc) => {
    showFreshness("");
    onError(exc);
  };
  on("plan", ({ plan, madeFrom }) => showPlan(plan, madeFrom));
  on("parameters-changed", () => {
    render();
    followParameters();
  });
  on("duration-changed", () => {
    render();
    followParameters();
  });
  let lastWidth = 0;
  window.addEventListener("resize", () => {
    const width = byId("plan-figure").clientWidth;
    if (state.plan && width !== lastWidth) {
      lastWidth = width;
      render();
    }
  });
  byId("replan").addEventListener("click", () => replan().catch(onError));
  on("plan-wanted", () => replan().catch(onError));
  on("signed-out", () => {
    replanSoon.cancel();
    selected = 0;
    byId("plan").hidden = true;
    byId("plan-empty").hidden = false;
    byId("plan-figure").replaceChildren();
    byId("chords").replaceChildren();
    byId("plan-editor").replaceChildren();
    showFreshness("");
  });
}
