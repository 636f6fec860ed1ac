/**
 * Downloads behind the Bearer header: fetch with the header, save through a Blob URL.
 */

import { filenameOf, localPath, request } from "./api.js";
import { el } from "./dom.js";
import { icon } from "./icons.js";
import { toast } from "./notify.js";

/** Save a Blob under a file name (the browser's download). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Fetch a service file with the key and save it. */
export async function download(url, fallbackName) {
  try {
    const response = await request(localPath(url), { raw: true, method: "GET" });
    saveBlob(await response.blob(), filenameOf(response, fallbackName));
  } catch (exc) {
    toast(`Download failed: ${exc.message}`, { error: true });
  }
}

/**
 * The download buttons for a finished generation.
 * @param {any} generation Generation JSON
 * @returns {HTMLElement[]}
 */
export function downloadButtons(generation) {
  const files = generation.files || {};
  const id = generation.generation_id;
  const format = (generation.output_format || "wav").toUpperCase();
  const entries = [];
  if (files.audio) entries.push([`Audio (${format})`, files.audio, `soundstar-${id}.${format.toLowerCase()}`, "audio"]);
  if (files.midi) entries.push(["MIDI", files.midi, `soundstar-${id}.mid`, "midi"]);
  if (files.plan) entries.push(["Plan (JSON)", files.plan, `soundstar-${id}-plan.json`, "plan"]);
  for (const [name, url] of Object.entries(files.stems || {})) {
    entries.push([`Stem: ${name.replace(/[_-]+/g, " ")}`, url, `soundstar-${id}-${name}`, `stem-${name}`]);
  }
  return entries.map(([label, url, fallback, kind]) =>
    el(
      "button",
      {
        type: "button",
        class: "btn btn-small",
        "data-download": kind,
        "aria-label": `Download ${label}`,
        onclick: () => download(url, fallback),
      },
      icon("download"),
      label,
    ),
  );
}
