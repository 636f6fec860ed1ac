/**
 * History: the person's earlier generations, told apart by genre, tempo, key, meter, length
 * and time; playable one at a time, downloadable, reusable ("make another like this"), with
 * feedback (thumbs and 1–5 ratings, spec v1 §3.2.6). The service takes one piece of feedback
 * per person per 5 s: the page queues each track's latest choice and sends it when allowed,
 * so a rating on another track is never dropped.
 */

import { ApiError, fetchBlob, get, post } from "./api.js";
import { byId, el } from "./dom.js";
import { download } from "./downloads.js";
import { icon } from "./icons.js";
import { toast } from "./notify.js";
import { emit, on } from "./state.js";
import { FEEDBACK_THROTTLE_MS, Throttle } from "./timing.js";

const PAGE = 10;
let loaded = 0;

const when = (iso) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
};

/** The feedback type a 1–5 rating stands for. */
export function ratingType(stars) {
  return stars >= 4 ? "positive" : stars <= 2 ? "negative" : "neutral";
}

/**
 * Feedback waiting for the service's 5 s gate: one entry per track (its latest choice),
 * sent in the order given.
 */
export class FeedbackQueue {
  /**
   * @param {(id: string, body: any) => Promise<void>} send
   * @param {number} interval ms between two sends
   */
  constructor(send, interval = FEEDBACK_THROTTLE_MS) {
    this.send = send;
    this.gate = new Throttle(interval);
    /** @type {Map<string, {body: any, settle: (outcome: string) => void}>} */
    this.waiting = new Map();
    this.timer = 0;
  }

  /** Queue a track's feedback; resolves to "sent", "replaced" (a newer choice came) or an error message. */
  give(id, body) {
    const earlier = this.waiting.get(id);
    if (earlier) {
      this.waiting.delete(id);
      earlier.settle("replaced");
    }
    return new Promise((settle) => {
      this.waiting.set(id, { body, settle });
      this.pump();
    });
  }

  /** Milliseconds until the queue's next send. */
  wait() {
    return this.gate.remaining();
  }

  pump() {
    clearTimeout(this.timer);
    if (!this.waiting.size) return;
    const wait = this.gate.remaining();
    if (wait > 0) {
      this.timer = setTimeout(() => this.pump(), wait);
      return;
    }
    const [id, entry] = this.waiting.entries().next().value;
    this.waiting.delete(id);
    this.gate.take();
    this.send(id, entry.body).then(
      () => entry.settle("sent"),
      (exc) => {
        if (exc instanceof ApiError && exc.code === "RATE_LIMITED") {
          this.gate.holdFor(exc.retryAfter || FEEDBACK_THROTTLE_MS / 1000);
          this.waiting.set(id, entry); // the service's own gate: wait and send it then
        } else entry.settle(exc.message || "not saved");
      },
    ).finally(() => this.pump());
  }

  /** Drop everything waiting (sign-out). */
  clear() {
    clearTimeout(this.timer);
    this.waiting.clear();
  }
}

const queue = new FeedbackQueue((id, body) => post("/api/v1/aurora/feedback", { generation_id: id, ...body }));

async function sendFeedback(item, body, status) {
  const wait = queue.wait();
  if (wait > 0) {
    status.textContent = `Thanks! Soundstar takes one piece of feedback every 5 seconds: this one is saved in ${Math.ceil(wait / 1000)} s.`;
  }
  const outcome = await queue.give(item.id, body);
  if (outcome === "replaced") return false;
  status.textContent = outcome === "sent" ? "Thanks — feedback saved." : `Feedback not saved: ${outcome}`;
  return outcome === "sent";
}

function feedbackControls(item) {
  const status = el("p", { class: "small muted feedback-status", "aria-live": "polite" });
  const thumb = (type, label, name) => {
    const button = el("button", {
      type: "button",
      class: "btn btn-small",
      "data-feedback": type,
      "aria-label": label,
      "aria-pressed": item.user_feedback === type ? "true" : "false",
    });
    button.append(icon(name));
    return button;
  };
  const thumbs = [thumb("positive", "I like it", "thumbUp"), thumb("negative", "I don't like it", "thumbDown")];
  const mark = (type) => thumbs.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.feedback === type)));
  const stars = [1, 2, 3, 4, 5].map((n) =>
    el("button", {
      type: "button",
      class: "btn btn-small",
      text: String(n),
      "data-rating": n,
      "aria-label": `Rate the audio ${n} out of 5`,
      "aria-pressed": String(Boolean(item.user_rating) && n <= item.user_rating),
    }),
  );
  const showStars = (n) => stars.forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.rating) <= n)));
  for (const button of thumbs) {
    button.addEventListener("click", async () => {
      const type = button.dataset.feedback;
      mark(type); // shown at once; the status says when it is saved
      await sendFeedback(item, { feedback_type: type }, status);
    });
  }
  for (const button of stars) {
    button.addEventListener("click", async () => {
      const n = Number(button.dataset.rating);
      const body = { feedback_type: ratingType(n), feedback_details: { audio_quality: n } };
      showStars(n);
      mark(body.feedback_type);
      await sendFeedback(item, body, status);
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
      player.focus();
    } catch (exc) {
      toast(`Cannot play it: ${exc.message}`, { error: true });
      button.disabled = false;
    }
  });
  return button;
}

/** What tells one track from another: genre, tempo, key, meter, length, when, seed. */
export function historyFacts(item) {
  const p = item.parameters || {};
  return [
    p.genre ? p.genre.replace(/_/g, " ") : "",
    p.tempo_bpm ? `${Math.round(p.tempo_bpm)} BPM` : "",
    p.key || "",
    p.time_signature || "",
    item.duration_seconds ? `${Math.round(item.duration_seconds)} s` : "",
    item.output_format ? item.output_format.toUpperCase() : "",
  ].filter(Boolean);
}

function entry(item) {
  const holder = el("div", { class: "history-audio" });
  const facts = el("p", { class: "facts" }, ...historyFacts(item).map((text) => el("span", { class: "fact", text })));
  const node = el(
    "li",
    { class: "history-item", "data-id": item.id, "data-status": item.status },
    el("span", { class: "prompt", text: item.original_prompt }),
    facts,
    el(
      "span",
      { class: "meta" },
      [when(item.created_at), item.seed !== null && item.seed !== undefined ? `seed ${item.seed}` : ""].filter(Boolean).join(" · "),
      item.status !== "completed" ? el("span", { class: `status-pill ${item.status}`, text: ` ${item.status}` }) : null,
    ),
  );
  if (item.audio_url) {
    const format = (item.output_format || "wav").toLowerCase();
    const save = el("button", {
      type: "button",
      class: "btn btn-small",
      "data-download": "history-audio",
      "aria-label": `Download: ${item.original_prompt}`,
      onclick: () => download(item.audio_url, `soundstar-${item.id}.${format}`),
    }, icon("download"), "Download");
    const reuse = el("button", {
      type: "button",
      class: "btn btn-small",
      "data-reuse": item.id,
      text: "Make another like this",
      onclick: () => emit("reuse", item),
    });
    holder.append(playButton(item, holder));
    node.append(el("div", { class: "row" }, holder, save, reuse), ...feedbackControls(item));
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
  on("signed-out", () => {
    queue.clear();
    loaded = 0;
    byId("history").replaceChildren();
    byId("history-more-wrap").hidden = true;
    byId("history-empty").hidden = false;
    byId("history-empty").textContent = "Your generations appear here.";
  });
}
