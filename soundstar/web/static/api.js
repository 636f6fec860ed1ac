/** The HTTP client: the Bearer header, JSON bodies, and errors turned into ApiError. */

import { describeError } from "./errors.js";

const KEY_STORAGE = "soundstar.apiKey";

/** An error the service (or the network) returned, with words for a person. */
export class ApiError extends Error {
  constructor(status, code, serviceMessage, retryAfter, field) {
    super(describeError(code, serviceMessage, retryAfter));
    this.status = status;
    this.code = code;
    this.serviceMessage = serviceMessage;
    this.retryAfter = retryAfter;
    this.field = field;
  }
}

export const apiKey = {
  get: () => localStorage.getItem(KEY_STORAGE) || "",
  set: (key) => localStorage.setItem(KEY_STORAGE, key),
  clear: () => localStorage.removeItem(KEY_STORAGE),
};

/** Listeners told when the service answers 401 (the key was revoked or is wrong). */
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

async function errorFrom(response) {
  let code = "INTERNAL_ERROR";
  let message = "";
  let field;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || "";
      field = body.error.field;
    }
  } catch {
    message = response.statusText;
  }
  const retry = Number(response.headers.get("Retry-After")) || undefined;
  return new ApiError(response.status, code, message, retry, field);
}

/**
 * Call the service. Throws ApiError on any failure, including the network.
 * @param {string} path e.g. "/api/v1/aurora/enhance"
 * @param {{method?: string, body?: any, key?: string, raw?: boolean, signal?: AbortSignal}} [opts]
 */
export async function request(path, opts = {}) {
  const headers = { Accept: "application/json" };
  const key = opts.key ?? apiKey.get();
  if (key) headers.Authorization = `Bearer ${key}`;
  const init = { method: opts.method || (opts.body ? "POST" : "GET"), headers, signal: opts.signal };
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (exc) {
    if (exc && exc.name === "AbortError") throw exc;
    throw new ApiError(0, "NETWORK_ERROR", String(exc));
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !opts.key) unauthorizedListeners.forEach((fn) => fn(error));
    throw error;
  }
  if (opts.raw) return response;
  return response.json();
}

export const post = (path, body, opts = {}) => request(path, { ...opts, method: "POST", body });
export const get = (path, opts = {}) => request(path, { ...opts, method: "GET" });

/** A same-origin path for a URL the service returned (it gives absolute URLs). */
export function localPath(url) {
  try {
    const parsed = new URL(url, location.origin);
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}

/** Fetch a file the service serves behind the Bearer header, as a Blob. */
export async function fetchBlob(url) {
  const response = await request(localPath(url), { raw: true, method: "GET" });
  return response.blob();
}

/** The name the service gave a download (Content-Disposition), or a fallback. */
export function filenameOf(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : fallback;
}
