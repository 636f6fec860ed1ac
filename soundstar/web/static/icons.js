/** Inline SVG icons (emoji fonts are not everywhere; these draw the same on every machine). */

import { svg } from "./dom.js";

const PATHS = {
  thumbUp:
    "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z",
  thumbDown:
    "M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1l1.1 1 6.6-6.6c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2H7c-.8 0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z",
  download: "M12 3v11m0 0-4.5-4.5M12 14l4.5-4.5M4 17v3h16v-3",
};

/**
 * An icon as an SVG element, hidden from screen readers (the button carries the label).
 * @param {keyof typeof PATHS} name
 */
export function icon(name) {
  const stroked = name === "download";
  return svg(
    "svg",
    { viewBox: "0 0 24 24", width: 16, height: 16, "aria-hidden": "true", class: "icon" },
    svg("path", {
      d: PATHS[name],
      fill: stroked ? "none" : "currentColor",
      stroke: stroked ? "currentColor" : "none",
      "stroke-width": stroked ? 2 : 0,
      "stroke-linecap": "round",
      "stroke-linejoin": "round",
    }),
  );
}
