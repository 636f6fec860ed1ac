/**
 * The parameters panel: what the sliders say is what is generated.
 * Filled from POST /api/v1/aurora/parse → musical_parameters; sliders commit after 150 ms.
 * Each control the person moves is also kept by its name (state.controls) and sent to
 * generate as `controls`, read there as `soundstar generate --set NAME=VALUE` is.
 */

import { post } from "./api.js";
import { byId, el } from "./dom.js";
import { showHonesty } from "./notify.js";
import { emit, on, state } from "./state.js";
import { debounce, SLIDER_DEBOUNCE_MS } from "./timing.js";

const TONICS = ["C", "C#", "Db", "D", "D#", "Eb", "E", "F", "F#", "Gb", "G", "G#", "Ab", "A", "A#", "Bb", "B"];
const MODES = ["major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian", "harmonic minor", "melodic minor"];
const METERS = ["4/4", "3/4", "2/4", "6/8", "5/4", "7/8", "12/8"];
const ROLES = ["lead", "chords", "pad", "bass", "drums", "percussion", "arp", "texture"];
/** A drum kit or percussion instrument is played once; a melodic one by up to MAX_PLAYERS
 * (a second violin partners the first, as "two violins" in a prompt does). */
const KIT_ROLES = ["drums", "percussion"];
const MAX_PLAYERS = 4;

/** slider id → [parameter field (and control name), how to show the value] */
const SLIDERS = {
  "p-tempo": ["tempo_bpm", (v) => `${Math.round(v)} BPM`],
  "p-energy": ["energy_level", (v) => v.toFixed(2)],
  "p-valence": ["valence", (v) => v.toFixed(2)],
  "p-danceability": ["danceability", (v) => v.toFixed(2)],
};

/** @type {{id: string, name: string, role: string}[]} */
let catalogue = [];
/** @type {Promise<void> | null} */
let catalogueLoading = null;

function options(select, values, current) {
  const list = current && !values.includes(current) ? [current, ...values] : values;
  select.replaceChildren(...list.map((v) => el("option", { value: v, text: v })));
  if (current) select.value = current;
}

export const describe = (p) =>
  `${p.genre.replace(/_/g, " ")}, ${Math.round(p.tempo_bpm)} BPM, ${p.key}, ${p.time_signature}, ` +
  `${p.instrumentation.length} instrument${p.instrumentation.length === 1 ? "" : "s"}` +
  (p.structure ? `, ${p.structure.replace(/_/g, " ")}` : "") +
  (p.era ? `, ${p.era} sound` : "");

/**
 * A control the person set, by the name the service's `controls` (and the CLI's --set) take.
 * @param {string} name
 * @param {string | number} value
 */
function setControl(name, value) {
  state.controls = { ...(state.controls || {}), [name]: value };
}

/** Tell the rest of the studio the parameters changed (after the debounce). */
function committed() {
  byId("params-summary").textContent = `Will generate: ${describe(state.parameters)}.`;
  emit("parameters-changed", state.parameters);
}

/** Put the sliders' values in the parameters; true when one changed. */
function readSliders() {
  let changed = false;
  for (const [id, [field]] of Object.entries(SLIDERS)) {
    const value = Number(/** @type {HTMLInputElement} */ (byId(id)).value);
    if (value === state.parameters[field]) continue;
    // A tempo the person sets is stated: the engine makes it the beat heard.
    if (field === "tempo_bpm" && value !== Math.round(state.parameters.tempo_bpm)) {
      state.parameters.tempo_stated = true;
    }
    state.parameters[field] = value;
    setControl(field, value);
    changed = true;
  }
  return changed;
}

const commitSliders = debounce(() => {
  if (state.parameters && readSliders()) committed();
}, SLIDER_DEBOUNCE_MS);

function renderInstruments() {
  const list = byId("p-instruments");
  const items = state.parameters?.instrumentation || [];
  list.replaceChildren(
    ...items.map((inst, i) => {
      const plain = catalogue.find((c) => c.id === inst.name)?.name || inst.name;
      // the engine names a second player's track "Violin 2"; the chip says the same
      const nth = items.slice(0, i + 1).filter((other) => other.name === inst.name).length;
      const name = nth > 1 ? `${plain} ${nth}` : plain;
      return el(
        "li",
        { class: "chip", "data-instrument": inst.name },
        el("span", { text: name }),
        el("span", { class: "role", text: inst.role }),
        el("button", {
          type: "button",
          "aria-label": `Remove ${name}`,
          text: "×",
          disabled: items.length <= 1 ? true : undefined,
          title: items.length <= 1 ? "At least one instrument is needed" : undefined,
          onclick: () => {
            state.parameters.instrumentation.splice(i, 1);
            renderInstruments();
            committed();
            const next = byId("p-instruments").querySelector("button:not([disabled])");
            (next || byId("p-instrument-name")).focus();
          },
        }),
      );
    }),
  );
}

/** Find an instrument in the knowledge base's list by id, name or a plain-words id. */
function lookup(text) {
  const wanted = text.trim().toLowerCase();
  const asId = wanted.replace(/[\s-]+/g, "_");
  return catalogue.find((c) => c.id === asId || c.name.toLowerCase() === wanted) || null;
}

function addInstrument() {
  const input = /** @type {HTMLInputElement} */ (byId("p-instrument-name"));
  const role = /** @type {HTMLSelectElement} */ (byId("p-instrument-role")).value;
  const error = byId("describe-error");
  if (!state.parameters || !input.value.trim()) return;
  const found = lookup(input.value);
  if (!found) {
    byId("params-summary").textContent = `“${input.value.trim()}” is not an instrument Soundstar knows. Pick one from the list.`;
    input.focus();
    return;
  }
  const playing = state.parameters.instrumentation.filter((i) => i.name === found.id).length;
  if (playing && KIT_ROLES.includes(found.role)) {
    byId("params-summary").textContent = `${found.name} is already playing; one player takes it.`;
    return;
  }
  if (playing >= MAX_PLAYERS) {
    byId("params-summary").textContent = `${playing} players of ${found.name} already: ${MAX_PLAYERS} is the most.`;
    return;
  }
  state.parameters.instrumentation.push({ name: found.id, role: role || found.role });
  input.value = "";
  error.textContent = "";
  renderInstruments();
  committed();
}

/**
 * Show parameters in the controls; newly read ones start with no control set over them.
 * @param {any} params MusicalParameters JSON
 * @param {{keepControls?: boolean}} [how] keep the controls set so far (a chip applied)
 */
export function showParameters(params, { keepControls = false } = {}) {
  if (!keepControls) state.controls = {};
  state.parameters = structuredClone(params);
  const p = state.parameters;
  byId("params-empty").hidden = true;
  byId("params").hidden = false;
  byId("params-stale").hidden = true;
  /** @type {HTMLInputElement} */ (byId("p-genre")).value = p.genre;
  for (const [id, [field, show]] of Object.entries(SLIDERS)) {
    const input = /** @type {HTMLInputElement} */ (byId(id));
    input.value = String(p[field]);
    byId(`${id}-out`).textContent = show(Number(p[field]));
  }
  const [tonic, ...mode] = p.key.split(" ");
  options(byId("p-tonic"), TONICS, tonic);
  options(byId("p-mode"), MODES, mode.join(" "));
  options(byId("p-meter"), METERS, p.time_signature);
  renderInstruments();
  committed();
}

/**
 * Apply a chip decision to the parameters now and to any read later.
 * @param {{field: string, value: string, remove?: boolean}} change
 */
export async function applyOverride(change) {
  state.overrides.push(change);
  await catalogueReady();
  if (state.parameters) {
    applyOverrides(state.parameters, [change]);
    showParameters(state.parameters, { keepControls: true });
  }
}

/** Instrument ids named in a phrase ("Synth Bass and drum machine"), as the catalogue knows them. */
function instrumentsIn(text) {
  return text
    .split(/\s*(?:,|\band\b)\s*/)
    .map((word) => word && lookup(word.replace(/^(a|an|the)\s+/i, "")))
    .filter(Boolean);
}

/**
 * Whether a chip's value can be used for its field (a tempo in range, a key with a known mode,
 * a meter the controls offer, an instrument Soundstar knows); other fields take any text.
 * Call after catalogueReady() for instruments.
 */
export function usable(field, value) {
  const text = String(value).trim();
  if (field === "tempo") {
    const bpm = Number((/(\d+(?:\.\d+)?)/.exec(text) || [])[1]);
    return bpm >= 40 && bpm <= 240;
  }
  if (field === "key") {
    const match = /^([A-G][#b]?)\s*(.*)$/.exec(text);
    return Boolean(match) && MODES.includes((match[2] || "major").toLowerCase().trim());
  }
  if (field === "time_signature") {
    const meter = /(\d{1,2})\s*\/\s*(\d{1,2})/.exec(text);
    return Boolean(meter) && METERS.includes(`${meter[1]}/${meter[2]}`);
  }
  if (field === "instrumentation" || field === "instruments") return instrumentsIn(text).length > 0;
  return text.length > 0;
}

/** A structure's id as the knowledge base writes it ("verse chorus" → "verse_chorus"). */
const structureId = (text) => text.toLowerCase().trim().replace(/[\s-]+/g, "_");

/**
 * Put overrides on a parameters object; values that do not fit a field are left out.
 * A change with `remove` takes the value out (a rejected instrument is gone, and stays
 * excluded when the prompt is read again).
 * @param {any} p MusicalParameters JSON
 * @param {Record<string, string> | {field: string, value: string, remove?: boolean}[]} overrides
 */
export function applyOverrides(p, overrides) {
  const changes = Array.isArray(overrides)
    ? overrides
    : Object.entries(overrides).map(([field, value]) => ({ field, value }));
  for (const { field, value, remove } of changes) {
    const text = String(value).trim();
    if (field === "instrumentation" || field === "instruments") {
      const found = instrumentsIn(text);
      if (remove) {
        const gone = new Set(found.map((f) => f.id));
        const kept = p.instrumentation.filter((i) => !gone.has(i.name));
        if (kept.length) p.instrumentation = kept; // at least one player stays
        const exclusions = (p.exclusions ??= {});
        exclusions.instruments = [...new Set([...(exclusions.instruments || []), ...gone])];
        continue;
      }
      if (p.exclusions?.instruments) {
        p.exclusions.instruments = p.exclusions.instruments.filter((id) => !found.some((f) => f.id === id));
      }
      for (const inst of found) {
        if (!p.instrumentation.some((i) => i.name === inst.id)) p.instrumentation.push({ name: inst.id, role: inst.role });
      }
      continue;
    }
    if (remove) continue; // a rejected tempo, key or mood is simply not added
    if (field === "tempo") {
      const bpm = Number((/(\d+(?:\.\d+)?)/.exec(text) || [])[1]);
      if (bpm >= 40 && bpm <= 240) {
        p.tempo_bpm = bpm;
        p.tempo_stated = true;
      }
    } else if (field === "genre") {
      p.genre = text.toLowerCase();
    } else if (field === "sub_genre") {
      p.sub_genre = text.toLowerCase();
    } else if (field === "mood") {
      const moods = text.toLowerCase().split(/\s*(?:,|\band\b)\s*/).filter(Boolean);
      p.mood = [...new Set([...moods, ...p.mood])];
    } else if (field === "key") {
      const match = /^([A-G][#b]?)\s*(.*)$/.exec(text);
      if (match) {
        const mode = (match[2] || "major").toLowerCase().trim();
        if (MODES.includes(mode)) p.key = `${match[1]} ${mode}`;
      }
    } else if (field === "structure") {
      p.structure = structureId(text);
    } else if (field === "time_signature") {
      const meter = /(\d{1,2})\s*\/\s*(\d{1,2})/.exec(text);
      if (meter && METERS.includes(`${meter[1]}/${meter[2]}`)) p.time_signature = `${meter[1]}/${meter[2]}`;
    } else if (field === "era") {
      p.era = text;
    }
  }
  return p;
}

/** POST /aurora/parse; shows the parameters and passes the plan on. */
export async function analyse(prompt) {
  const answer = await post("/api/v1/aurora/parse", { prompt });
  showHonesty(answer);
  state.analysedPrompt = prompt;
  if (answer.session_id && !state.sessionId) state.sessionId = answer.session_id;
  await catalogueReady();
  showParameters(applyOverrides(structuredClone(answer.musical_parameters), state.overrides));
  const asked = answer.parsed_parameters?.duration_seconds;
  if (asked) emit("duration-from-parameters", asked);
  // API.md's parse answer need not carry a plan; ask the planner when it does not.
  if (answer.structural_plan) emit("plan", { plan: answer.structural_plan, madeFrom: answer.musical_parameters });
  else emit("plan-wanted");
  return answer;
}

/**
 * The instrument catalogue, fetched once; instrument words in overrides resolve against
 * it, so they wait for it rather than being dropped while it loads.
 * @returns {Promise<void>}
 */
export function catalogueReady() {
  catalogueLoading ??= loadCatalogue();
  return catalogueLoading;
}

async function loadCatalogue() {
  try {
    const response = await fetch("/static/instruments.json");
    catalogue = await response.json();
  } catch {
    catalogue = [];
  }
  const list = el("datalist", { id: "instrument-list" }, ...catalogue.map((c) => el("option", { value: c.name })));
  document.body.append(list);
  byId("p-instrument-name").setAttribute("list", "instrument-list");
}

/** Wire the parameter controls. */
export function initParams() {
  catalogueReady();
  options(byId("p-instrument-role"), ROLES, "lead");
  for (const [id, [, show]] of Object.entries(SLIDERS)) {
    const input = /** @type {HTMLInputElement} */ (byId(id));
    input.addEventListener("input", () => {
      byId(`${id}-out`).textContent = show(Number(input.value));
      commitSliders();
    });
  }
  byId("p-genre").addEventListener("change", (event) => {
    if (!state.parameters) return;
    const value = /** @type {HTMLInputElement} */ (event.target).value.trim().toLowerCase();
    if (value) {
      state.parameters.genre = value;
      setControl("genre", value);
    }
    committed();
  });
  const keyChanged = () => {
    if (!state.parameters) return;
    state.parameters.key = `${byId("p-tonic").value} ${byId("p-mode").value}`;
    setControl("key", state.parameters.key);
    committed();
  };
  byId("p-tonic").addEventListener("change", keyChanged);
  byId("p-mode").addEventListener("change", keyChanged);
  byId("p-meter").addEventListener("change", (event) => {
    if (!state.parameters) return;
    state.parameters.time_signature = /** @type {HTMLSelectElement} */ (event.target).value;
    setControl("time_signature", state.parameters.time_signature);
    committed();
  });
  byId("p-instrument-add").addEventListener("click", addInstrument);
  byId("p-instrument-name").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      addInstrument();
    }
  });
  byId("p-instrument-name").addEventListener("change", (event) => {
    const found = lookup(/** @type {HTMLInputElement} */ (event.target).value);
    if (found) /** @type {HTMLSelectElement} */ (byId("p-instrument-role")).value = found.role;
  });
  on("prompt-changed", (text) => {
    byId("params-stale").hidden = !state.parameters || text === state.analysedPrompt;
  });
  on("duration-changed", (seconds) => {
    if (state.parameters) state.parameters.duration_seconds = seconds;
  });
  on("signed-out", () => {
    state.controls = {};
    byId("params").hidden = true;
    byId("params-stale").hidden = true;
    byId("params-empty").hidden = false;
    byId("params-summary").textContent = "";
    byId("p-instruments").replaceChildren();
  });
}

/** Commit any slider move still waiting for its debounce (before generating). */
export function flushSliders() {
  commitSliders.cancel();
  if (state.parameters && readSliders()) committed();
}
