/**
 * History: the person's earlier generations, playable, with feedback
 * (thumbs and 1–5 ratings, spec v1 §3.2.6), throttled to one per 5 s.
 */

import { ApiError, fetchBlob, get, post } from "./api.js";
import { byId, el } from "./dom.js";
import { icon } from "./icons.js";
import { toast } from "./notify.js";
import { on } from "./state.js";
import { FEEDBACK_THROTTLE_MS, Throttle } from "./timing.js";

const PAGE = 10;
const gate = new Throttle(FEEDBACK_THROTTLE_MS);
let loaded = 0;

const when = (iso) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
};

/** The feedback type a 1–5 rating stands for. */
export function ratingType(stars) {
  return stars >= 4 ? "positive" : stars <= 2 ? "negative" : "neutral";
}

async function sendFeedback(item, body, status) {
  const wait = gate.remaining();
  if (wait > 0) {
    status.textContent = `Thanks! Please wait ${Math.ceil(wait / 1000)} s before sending more feedback.`;
    return false;
  }
  gate.take();
  try {
    await post("/api/v1/aurora/feedback", { generation_id: item.id, ...body });
    status.textContent = "Thanks — feedback saved.";
    return true;
  } catch (exc) {
    if (exc instanceof ApiError && exc.code === "RATE_LIMITED") {
      gate.holdFor(exc.retryAfter || 5);
      status.textContent = `Feedback is limited to one every 5 seconds. ${exc.message}`;
    } else {
      status.textContent = `Feedback not saved: ${exc.message}`;
    }
    return false;
  }
}

function feedbackControls(item) {
  const status = el("p", { class: "small muted feedback-status", "aria-live": "polite" });
  const up = el("button", {
    type: "button",
    class: "btn btn-small",
    "data-feedback": "positive",
    "aria-label": "I like it",
    "aria-pressed": item.user_feedback === "positive" ? "true" : "false",
  });
  const down = el("button", {
    type: "button",
    class: "btn btn-small",
    "data-feedback": "negative",
    "aria-label": "I don't like it",
    "aria-pressed": item.user_feedback === "negative" ? "true" : "false",
  });
  up.append(icon("thumbUp"));
  down.append(icon("thumbDown"));
  const thumbs = [up, down];
  const mark = (type) => thumbs.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.feedback === type)));
  for (const button of thumbs) {
    button.addEventListener("click", async () => {
      const type = button.dataset.feedback;
      if (await sendFeedback(item, { feedback_type: type }, status)) mark(type);
    });
  }
  const stars = [1, 2, 3, 4, 5].map((n) =>
    el("button", {
      type: "button",
      class: "btn btn-small",
      text: String(n),
      "data-rating": n,
      "aria-label": `Rate the audio ${n} out of 5`,
      "aria-pressed": "false",
    }),
  );
  for (const button of stars) {
    button.addEventListener("click", async () => {
      const n = Number(button.dataset.rating);
      const body = { feedback_type: ratingType(n), feedback_details: { audio_quality: n } };
      if (await sendFeedback(item, body, status)) {
        stars.forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.rating) <= n)));
        mark(body.feedback_type);
      }
    });
  }
  const rating = el("fieldset", { class: "rating" }, el("legend", { text: "Audio" }), ...stars);
  return [el("div", { class: "row" }, ...thumbs, rating), status];
}

function playButton(item, holder) {
  const button = el("button", { type: "button", class: "btn btn-small", text: "▶ Play", "aria-label": `Play: ${item.original_prompt}` });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const blob = await fetchBlob(item.audio_url);
      const player = el("audio", { controls: true, src: URL.createObjectURL(blob), "aria-label": `Audio: ${item.original_prompt}` });
      holder.replaceChildren(player);
      player.play().catch(() => {});
    } catch (exc) {
      toast(`Cannot play it: ${exc.message}`, { error: true });
      button.disabled = false;
    }
  });
  return button;
}

function entry(item) {
  const holder = el("div", { class: "history-audio" });
  const meta = [when(item.created_at), item.duration_seconds ? `${Math.round(item.duration_seconds)} s` : "", item.output_format?.toUpperCase()]
    .filter(Boolean)
    .join(" · ");
  const node = el(
    "li",
    { class: "history-item", "data-id": item.id, "data-status": item.status },
    el("span", { class: "prompt", text: item.original_prompt }),
    el(
      "span",
      { class: "meta" },
      meta,
      item.status !== "completed" ? el("span", { class: `status-pill ${item.status}`, text: ` ${item.status}` }) : null,
    ),
  );
  if (item.audio_url) {
    holder.append(playButton(item, holder));
    node.append(holder, ...feedbackControls(item));
  }
  return node;
}

/** Load the first page (or the next one with `more`). */
export async function loadHistory(more = false) {
  const offset = more ? loaded : 0;
  try {
    const page = await get(`/api/v1/aurora/history?limit=${PAGE}&offset=${offset}&sort=newest`);
    const list = byId("history");
    const nodes = page.items.map(entry);
    if (more) list.append(...nodes);
    else list.replaceChildren(...nodes);
    loaded = offset + page.items.length;
    byId("history-empty").hidden = page.total_count > 0;
    byId("history-more-wrap").hidden = loaded >= page.total_count;
  } catch (exc) {
    byId("history-empty").hidden = false;
    byId("history-empty").textContent = `History is unavailable: ${exc.message}`;
  }
}

/** Wire the history panel. */
export function initHistory() {
  byId("history-refresh").addEventListener("click", () => loadHistory());
  byId("history-more").addEventListener("click", () => loadHistory(true));
  on("signed-in", () => loadHistory());
  on("generated", () => loadHistory());
  on("signed-out", () => byId("history").replaceChildren());
}
