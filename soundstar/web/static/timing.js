/** Debounce and throttle (spec v1 §7.3: suggestions 300 ms, sliders 150 ms, feedback 5 s). */

export const SUGGEST_DEBOUNCE_MS = 300;
export const SLIDER_DEBOUNCE_MS = 150;
export const FEEDBACK_THROTTLE_MS = 5000;

/**
 * Call `fn` once `wait` ms have passed without another call.
 * @template {(...args: any[]) => void} F
 * @param {F} fn
 * @param {number} wait
 * @returns {F & {cancel: () => void}}
 */
export function debounce(fn, wait) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/**
 * A gate that lets one action through per `interval` ms.
 * `remaining()` says how long until the next is allowed.
 */
export class Throttle {
  constructor(interval) {
    this.interval = interval;
    this.last = -Infinity;
  }

  remaining() {
    return Math.max(0, this.last + this.interval - Date.now());
  }

  /** True (and starts the interval) when an action may run now. */
  take() {
    if (this.remaining() > 0) return false;
    this.last = Date.now();
    return true;
  }

  /** Start the interval from a server's Retry-After (seconds). */
  holdFor(seconds) {
    this.last = Date.now() - this.interval + seconds * 1000;
  }
}
