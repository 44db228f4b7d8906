/**
 * The directory marks an engine sends with its chunks (docs/plugins.md §5.2, "engine
 * capabilities"): where a directory's walk begins and ends among them, which the pack uploader
 * uses for restore locality (docs/format.md §7.2). Checked, since an engine is a plugin.
 *
 * @module
 */

import type { DirMark } from "../../plugins/sdk/engine_types.ts";

/** The most directory marks one `blobs.store` call may carry. */
export const MAX_MARKS_PER_CALL = 8192;

/**
 * The directory marks of one `blobs.store` call (docs/plugins.md "engine capabilities"),
 * checked: an engine is a plugin, so anything else is refused rather than guessed at.
 */
export function dirMarks(marks: unknown, chunks: number): DirMark[] {
  if (marks === undefined) return [];
  if (!Array.isArray(marks)) throw new TypeError("blobs.store: marks must be an array");
  // The SDK's walker sends at most 2,048 per call; a longer list is refused before it is read.
  if (marks.length > MAX_MARKS_PER_CALL) {
    throw new TypeError(
      `blobs.store: ${marks.length} marks in one call (at most ${MAX_MARKS_PER_CALL})`,
    );
  }
  const out: DirMark[] = [];
  let last = 0;
  for (let i = 0; i < marks.length; i++) {
    const m = marks[i]; // a hole in a sparse array is undefined, and refused below
    const at = (m as DirMark)?.at, edge = (m as DirMark)?.edge;
    if (
      !Number.isInteger(at) || at < last || at > chunks || (edge !== "enter" && edge !== "leave")
    ) {
      throw new TypeError(
        `blobs.store: bad directory mark ${
          JSON.stringify(m) ?? "(none)"
        } at ${i} (want { at: ${last}..${chunks}, edge: "enter" | "leave" }, in order)`,
      );
    }
    last = at;
    out.push({ at, edge });
  }
  return out;
}
