/**
 * The WebSocket /api/v1/aurora/stream (spec v1 §7.4): live suggestions and job progress.
 *
 * One connection, opened on first use. Browsers cannot set headers on a
 * WebSocket and a URL lands in access logs, so the key travels as a
 * `bearer.<key>` subprotocol beside `soundstar`. When the
 * socket cannot be opened, callers fall back to HTTP (suggest endpoint, polling).
 */

import { apiKey, ApiError } from "./api.js";

const OPEN_TIMEOUT_MS = 3000;
const SUGGEST_TIMEOUT_MS = 5000;
/** After a failure the socket is tried again after 1, 2, 4 … up to 30 s (a restarting server is back soon). */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;

export class AuroraStream {
  constructor() {
    this.ws = null;
    this.ready = null; // Promise<WebSocket> while connecting/open
    this.failedAt = -Infinity;
    this.retryMs = 0; // how long after failedAt the socket is tried again
    this.suggestQueue = []; // FIFO of {resolve, reject, timer}
    this.watchers = new Map(); // generation_id -> {onProgress, onComplete, onError}
  }

  /** True when the socket is not to be tried now (it failed recently). */
  get unavailable() {
    return Date.now() - this.failedAt < this.retryMs;
  }

  /**
   * Try the socket at the next use (the service answered again after an outage). After a
   * failure it is otherwise tried again with a growing wait, so a job's progress resumes on it.
   */
  retryNow() {
    this.failedAt = -Infinity;
    this.retryMs = 0;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/api/v1/aurora/stream`;
  }

  /** The subprotocols that authenticate the socket (the server answers "soundstar"). */
  protocols() {
    return ["soundstar", `bearer.${apiKey.get()}`];
  }

  /** The open socket; rejects when it cannot be opened and authenticated in time. */
  connect() {
    if (this.ready) return this.ready;
    if (this.unavailable) return Promise.reject(new Error("stream unavailable"));
    this.ready = new Promise((resolve, reject) => {
      let settled = false;
      let ws;
      try {
        ws = new WebSocket(this.url(), this.protocols());
      } catch (exc) {
        this.failed();
        reject(exc);
        return;
      }
      const timer = setTimeout(() => {
        if (!settled) {
          settled = true;
          this.failed();
          try { ws.close(); } catch { /* already closed */ }
          reject(new Error("stream did not open in time"));
        }
      }, OPEN_TIMEOUT_MS);
      ws.addEventListener("message", (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          if (message.type === "ready") {
            this.ws = ws;
            resolve(ws);
          } else {
            this.failed();
            reject(new ApiError(401, message.error?.code || "UNAUTHORIZED", message.error?.message));
          }
          return;
        }
        this.dispatch(message);
      });
      const lost = () => {
        clearTimeout(timer);
        if (!settled) {
          settled = true;
          this.failed();
          reject(new Error("stream closed"));
        }
        this.dropped();
      };
      ws.addEventListener("error", lost);
      ws.addEventListener("close", lost);
    });
    return this.ready;
  }

  failed() {
    this.failedAt = Date.now();
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs ? this.retryMs * 2 : RETRY_FIRST_MS);
    this.ready = null;
    this.ws = null;
  }

  /** The socket closed: pending suggestions fail (callers fall back), watchers hear an error. */
  dropped() {
    this.ready = null;
    this.ws = null;
    for (const pending of this.suggestQueue.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(new Error("stream closed"));
    }
    for (const [id, watcher] of this.watchers) {
      this.watchers.delete(id);
      watcher.onLost?.();
    }
  }

  dispatch(message) {
    if (message.type === "partial") {
      this.suggestQueue[0]?.onPartial?.(message.content);
    } else if (message.type === "complete" && message.generation) {
      const id = message.generation.generation_id;
      const watcher = this.watchers.get(id);
      this.watchers.delete(id);
      watcher?.onComplete(message.generation);
    } else if (message.type === "complete") {
      const pending = this.suggestQueue.shift();
      if (pending) {
        clearTimeout(pending.timer);
        pending.resolve(message);
      }
    } else if (message.type === "progress") {
      this.watchers.get(message.generation_id)?.onProgress(message);
    } else if (message.type === "error") {
      const error = new ApiError(0, message.error?.code || "INTERNAL_ERROR", message.error?.message);
      const pending = this.suggestQueue.shift();
      if (pending) {
        clearTimeout(pending.timer);
        pending.reject(error);
        return;
      }
      for (const [id, watcher] of this.watchers) {
        this.watchers.delete(id);
        watcher.onError(error);
      }
    }
  }

  /**
   * Ask for suggestions over the socket.
   * @returns {Promise<{suggestions: any[], inferred_context: any}>}
   */
  async suggest(partialPrompt, cursorPosition, count = 3, onPartial) {
    const ws = await this.connect();
    this.retryMs = 0;
    return new Promise((resolve, reject) => {
      const pending = { resolve, reject, onPartial, timer: 0 };
      pending.timer = setTimeout(() => {
        const at = this.suggestQueue.indexOf(pending);
        if (at >= 0) this.suggestQueue.splice(at, 1);
        reject(new Error("suggestions timed out"));
      }, SUGGEST_TIMEOUT_MS);
      this.suggestQueue.push(pending);
      const message = { type: "suggest", partial_prompt: partialPrompt, suggestion_count: count };
      if (Number.isInteger(cursorPosition)) message.cursor_position = cursorPosition;
      ws.send(JSON.stringify(message));
    });
  }

  /**
   * Follow a generation's progress. Rejects at once when the socket cannot be used,
   * so the caller can poll instead.
   * @param {string} generationId
   * @param {{onProgress: Function, onComplete: Function, onError: Function, onLost?: Function}} watcher
   */
  async subscribe(generationId, watcher) {
    const ws = await this.connect();
    this.retryMs = 0;
    this.watchers.set(generationId, watcher);
    ws.send(JSON.stringify({ type: "subscribe", generation_id: generationId }));
  }

  /** Close the socket (on sign-out, so the next one carries the new key). */
  close() {
    const ws = this.ws;
    this.ready = null;
    this.ws = null;
    this.retryNow();
    for (const pending of this.suggestQueue.splice(0)) clearTimeout(pending.timer);
    this.watchers.clear(); // the next person hears nothing of this one's jobs
    if (ws) ws.close();
  }
}

export const stream = new AuroraStream();
