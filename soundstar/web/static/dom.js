/** Small DOM helpers: build elements without innerHTML (no injection of service text). */

/**
 * Create an element with attributes and children.
 * @param {string} tag
 * @param {Record<string, any>} [attrs] attributes; `text` sets textContent, `on*` functions add listeners
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "class") node.className = String(value);
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child);
  }
  return node;
}

/** Create an SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** The element with this id; throws early when the page and the code disagree. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing element #${id}`);
  return node;
}

/** Format seconds as m:ss. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * Put every control under `root` back to how the page first showed it, and empty its error
 * and status lines (sign-out: the next person sees none of the last one's choices).
 * @param {HTMLElement} root
 */
export function resetControls(root) {
  for (const input of root.querySelectorAll("input, textarea")) {
    const field = /** @type {HTMLInputElement} */ (input);
    if (field.type === "checkbox" || field.type === "radio") field.checked = field.defaultChecked;
    else field.value = field.defaultValue;
  }
  for (const select of root.querySelectorAll("select")) {
    for (const option of /** @type {HTMLSelectElement} */ (select).options) option.selected = option.defaultSelected;
  }
  for (const line of root.querySelectorAll('[role="alert"], .wait-status, [aria-live="polite"]:not(#banners)')) {
    if (!line.children.length) line.textContent = "";
  }
}
