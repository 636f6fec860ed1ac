/**
 * Live suggestions while typing: debounced 300 ms, over the WebSocket with the
 * suggest endpoint as fallback, shown as an ARIA combobox/listbox.
 */

import { post } from "./api.js";
import { byId, el } from "./dom.js";
import { emit, on } from "./state.js";
import { stream } from "./stream.js";
import { debounce, SUGGEST_DEBOUNCE_MS } from "./timing.js";

const MIN_CHARS = 10;
const MAX_CHARS = 500;
const COUNT = 3;

/** What each suggestion does, in words (the service's types are jargon). */
const KINDS = { completion: "finish the word", addition: "continue", replacement: "fix the spelling" };

let items = [];
let active = -1;
let requestSeq = 0;

const prompt = () => /** @type {HTMLTextAreaElement} */ (byId("prompt"));
const list = () => byId("suggestions");

/** Suggestions over the socket; over HTTP when the socket cannot be used. */
async function fetchSuggestions(text, cursor) {
  if (!stream.unavailable) {
    try {
      const answer = await stream.suggest(text, cursor, COUNT);
      return { ...answer, via: "stream" };
    } catch (exc) {
      if (exc && exc.code) throw exc; // the service answered with an error: do not ask twice
    }
  }
  const answer = await post("/api/v1/aurora/suggest", {
    partial_prompt: text,
    cursor_position: cursor,
    suggestion_count: COUNT,
  });
  return { ...answer, via: "http" };
}

/**
 * How a suggestion reads in the list: a completion shows the whole word it finishes
 * ("indie rock", not "die rock"), a continuation the phrase after what was typed.
 * @param {{text: string, type: string, insert_position?: number}} item
 * @param {string} [before] the prompt before the suggestion's position
 */
export function suggestionLabel(item, before = "") {
  const text = item.text.trim();
  if (item.type === "completion") {
    const typed = (/[\p{L}\p{N}'&#+-]+$/u.exec(before) || [""])[0];
    return { typed, text: item.text };
  }
  if (item.type === "replacement") return { typed: "", text };
  return { typed: "…", text: ` ${text}` };
}

function label(item) {
  const before = prompt().value.slice(0, item.insert_position ?? prompt().value.length);
  const { typed, text } = suggestionLabel(item, before);
  return el("span", { class: "text" }, typed ? el("span", { class: "typed", text: typed }) : null, text);
}

function render() {
  const box = list();
  box.replaceChildren(
    ...items.map((item, i) =>
      el(
        "li",
        {
          id: `suggestion-${i}`,
          role: "option",
          "aria-selected": i === active ? "true" : "false",
          "data-type": item.type,
          onmousedown: (event) => event.preventDefault(), // keep focus in the textarea
          onclick: () => choose(i),
        },
        label(item),
        el("span", { class: "kind", text: KINDS[item.type] || "suggestion" }),
      ),
    ),
  );
  const open = items.length > 0;
  box.hidden = !open;
  prompt().setAttribute("aria-expanded", String(open));
  if (active >= 0) prompt().setAttribute("aria-activedescendant", `suggestion-${active}`);
  else prompt().removeAttribute("aria-activedescendant");
}

function close() {
  items = [];
  active = -1;
  render();
}

/**
 * The prompt after applying a suggestion: a replacement replaces the whole prompt;
 * otherwise the text goes in at insert_position, with a space where words would touch.
 */
export function applySuggestion(text, suggestion) {
  if (suggestion.type === "replacement") return { value: suggestion.text, caret: suggestion.text.length };
  const at = Math.min(Math.max(0, suggestion.insert_position ?? text.length), text.length);
  const before = text.slice(0, at);
  const after = text.slice(at);
  let insert = suggestion.text;
  if (before && !/\s$/.test(before) && !/^[\s,.;:!?)]/.test(insert)) insert = ` ${insert}`;
  if (after && !/^\s/.test(after) && !/\s$/.test(insert)) insert = `${insert} `;
  const value = (before + insert + after).slice(0, MAX_CHARS);
  return { value, caret: Math.min(before.length + insert.length, value.length) };
}

function choose(i) {
  const item = items[i];
  if (!item) return;
  const area = prompt();
  const { value, caret } = applySuggestion(area.value, item);
  area.value = value;
  area.setSelectionRange(caret, caret);
  byId("prompt-count").textContent = `${value.length} / ${MAX_CHARS}`;
  close();
  area.focus();
  byId("suggest-status").textContent = "Suggestion added.";
  emit("prompt-changed", value);
}

const refresh = debounce(async () => {
  const area = prompt();
  const text = area.value;
  if (text.trim().length < MIN_CHARS || document.activeElement !== area) {
    close();
    return;
  }
  const seq = ++requestSeq;
  try {
    const answer = await fetchSuggestions(text, area.selectionStart);
    if (seq !== requestSeq || area.value !== text) return; // typing moved on
    items = (answer.suggestions || []).filter((s) => s && s.text);
    active = -1;
    render();
    byId("suggest-status").textContent = items.length
      ? `${items.length} suggestion${items.length === 1 ? "" : "s"} available.`
      : "";
    list().dataset.via = answer.via;
  } catch (exc) {
    if (seq !== requestSeq) return;
    close();
    byId("suggest-status").textContent = exc.message ? `Suggestions unavailable: ${exc.message}` : "";
  }
}, SUGGEST_DEBOUNCE_MS);

function onKey(event) {
  if (event.key === "Escape") {
    // Esc also stops suggestions still on their way, so the list does not reopen.
    refresh.cancel();
    requestSeq++;
    if (items.length) event.preventDefault();
    close();
    return;
  }
  if (!items.length) return;
  if (event.key === "ArrowDown") {
    event.preventDefault();
    active = (active + 1) % items.length;
    render();
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    active = active <= 0 ? items.length - 1 : active - 1;
    render();
  } else if (event.key === "Enter" && active >= 0) {
    event.preventDefault();
    choose(active);
  } else if (event.key === "Tab") {
    close();
  }
}

/** Wire the prompt's suggestions. */
export function initSuggest() {
  const area = prompt();
  area.addEventListener("input", () => {
    byId("prompt-count").textContent = `${area.value.length} / ${MAX_CHARS}`;
    emit("prompt-changed", area.value);
    refresh();
  });
  area.addEventListener("keydown", onKey);
  area.addEventListener("blur", () => {
    refresh.cancel();
    requestSeq++;
    close();
  });
  initExamples();
  on("signed-out", () => {
    setPrompt("");
    byId("suggest-status").textContent = "";
  });
}

/** Wire the example prompts a newcomer can start from (shown while the prompt is empty). */
function initExamples() {
  const area = prompt();
  const examples = byId("examples");
  const sync = () => { examples.hidden = area.value.trim().length > 0; };
  for (const button of examples.querySelectorAll(".example")) {
    button.addEventListener("click", () => {
      setPrompt(button.textContent.trim());
      area.focus();
      area.setSelectionRange(area.value.length, area.value.length);
    });
  }
  area.addEventListener("input", sync);
  on("prompt-changed", sync);
  sync();
}

/** Replace the prompt text (e.g. "Use this"), keeping the counter and listeners in step. */
export function setPrompt(text) {
  const area = prompt();
  area.value = text.slice(0, MAX_CHARS);
  byId("prompt-count").textContent = `${area.value.length} / ${MAX_CHARS}`;
  close();
  emit("prompt-changed", area.value);
}
