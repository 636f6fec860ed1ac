/**
 * Honesty (spec v1 §8.6): the yellow badge, orange banner or red banner, from the
 * `notices[].indicator` and `implementation_used` the service reports; plus toasts.
 */

import { byId, el } from "./dom.js";
import { emit } from "./state.js";

/** The spec's words per fallback level, used when a response names the level but no notice. */
const LEVELS = {
  local_llm: {
    indicator: "yellow_badge",
    message: "Using alternative AI for prompt enhancement. Some suggestions may be limited.",
  },
  rule_based: {
    indicator: "orange_banner",
    message: "AI services temporarily unavailable. Using basic prompt analysis.",
  },
  defaults: {
    indicator: "red_banner",
    message: "Unable to analyze prompt. Please adjust parameters manually.",
  },
};

const IMPLEMENTATION_NAMES = {
  codex: "Codex",
  local_llm: "local AI model",
  rule_based: "rule-based analysis",
  defaults: "defaults",
};

export function implementationName(impl) {
  return IMPLEMENTATION_NAMES[impl] || impl || "unknown";
}

/**
 * Show what a response says about fallbacks.
 * Notices decide; a response whose metadata says a fallback answered but that carries
 * no notice still gets the spec's indicator for that level.
 * @param {{notices?: any[], implementation_used?: string, fallback_used?: boolean,
 *          aurora_metadata?: {implementation?: string, fallback_used?: boolean}}} response
 */
export function showHonesty(response) {
  const all = (response.notices || []).filter((n) => n && n.message);
  showNotes(all.filter((n) => !n.indicator || n.indicator === "none"));
  const notices = all.filter((n) => n.indicator && n.indicator !== "none");
  const impl = response.implementation_used || response.aurora_metadata?.implementation;
  const fallback = response.fallback_used ?? response.aurora_metadata?.fallback_used;
  if (impl === "codex" && !fallback && !notices.length) {
    clearHonesty(); // the primary AI answered again: the earlier warnings no longer hold
    return;
  }
  if (!notices.length && (fallback || impl === "defaults") && LEVELS[impl]) {
    notices.push({ level: "warning", ...LEVELS[impl] });
  }
  for (const notice of notices) raise(notice);
}

/** Notices that carry no indicator (offline analysis, a value the service adjusted): said in a line. */
function showNotes(notes) {
  byId("notes").replaceChildren(...notes.map((n) => el("li", { text: n.message })));
}

function raise(notice) {
  if (notice.indicator === "yellow_badge") {
    const badge = byId("fallback-badge");
    badge.textContent = "⚠ Alternative AI";
    badge.title = notice.message;
    badge.setAttribute("aria-label", notice.message);
    badge.hidden = false;
    return;
  }
  const colour = notice.indicator === "red_banner" ? "red" : notice.indicator === "orange_banner" ? "orange" : "info";
  const id = `banner-${colour}`;
  const existing = document.getElementById(id);
  if (existing) existing.remove();
  const actions = el("div", { class: "banner-actions" });
  if (colour === "red") {
    actions.append(
      el("button", {
        type: "button",
        class: "btn btn-small",
        text: "Set parameters by hand",
        onclick: () => emit("manual-controls"),
      }),
    );
  }
  const dismiss = el("button", {
    type: "button",
    class: "btn btn-ghost btn-small",
    text: "Dismiss",
    "aria-label": `Dismiss: ${notice.message}`,
  });
  const banner = el(
    "div",
    { class: `banner banner-${colour}`, id, role: colour === "red" ? "alert" : "status", "data-indicator": notice.indicator },
    el("p", { text: notice.message }),
    actions,
  );
  actions.append(dismiss);
  dismiss.addEventListener("click", () => banner.remove());
  byId("banners").append(banner);
  if (colour !== "red") showBackends(banner);
}

const BACKEND_NAMES = { codex: "The AI service", local_llm: "The local AI model" };

/**
 * Say which AI backends are being skipped and for how long, from the service's health view
 * (the chain keeps each backend's breaker across requests), so a fast answer is explained.
 * @param {HTMLElement} banner
 */
export async function showBackends(banner) {
  let health;
  try {
    const response = await fetch("/health", { headers: { Accept: "application/json" } });
    health = await response.json();
  } catch {
    return;
  }
  const down = (health?.aurora?.backends || []).filter((b) => b.state !== "closed");
  if (!down.length || !banner.isConnected) return;
  const words = down
    .map((b) =>
      b.state === "open"
        ? `${BACKEND_NAMES[b.name] || b.name} is down: Soundstar skips it and answers at once, and tries it again in ${Math.ceil(b.retry_in_s)} s.`
        : `${BACKEND_NAMES[b.name] || b.name} was down: the next request tries it again.`,
    )
    .join(" ");
  banner.querySelector(".backends")?.remove();
  banner.querySelector("p").after(el("p", { class: "small backends", "data-backends": down.map((b) => `${b.name}:${b.state}`).join(","), text: words }));
}

/** The spec's red banner for a prompt nothing could be understood from (INVALID_PROMPT). */
export function showNotUnderstood() {
  raise({ level: "error", ...LEVELS.defaults });
}

/** Remove every fallback indicator (a fresh sign-in). */
export function clearHonesty() {
  byId("banners").replaceChildren();
  byId("notes").replaceChildren();
  byId("fallback-badge").hidden = true;
}

let toastTimer = 0;
/** A short message at the bottom of the screen. */
export function toast(message, { error = false, ms = 4000 } = {}) {
  const node = byId("toast");
  node.textContent = message;
  node.classList.toggle("toast-error", error);
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, ms);
}
