/**
 * `filter/mime`, an example third-party plugin (docs/plugins.md §7): leaves out the files whose
 * MIME type is in `config.skip` (`["image/*", "application/pdf"]`). A file's type comes from
 * its first 16 bytes, read under the backup source (its only permission, `read: $sources`),
 * else from its extension. Folders are always kept.
 *
 * @module
 */

import { servePlugin } from "@permafrost/sdk";
import { fromExtension, matches, sniff, SNIFF_LENGTH } from "./mime_types.ts";

servePlugin((ctx) => {
  const skip = (ctx.config as { skip?: unknown } | null)?.skip;
  if (!Array.isArray(skip) || skip.some((s) => typeof s !== "string" || !s.includes("/"))) {
    throw new TypeError(`filter "mime" needs config "skip", a list of types like "image/*"`);
  }
  return {
    /** `true` = left out; `paths` relative to the source `root`. */
    async match(paths: string[], dirs: boolean[], root: string): Promise<boolean[]> {
      return await Promise.all(paths.map(async (path, i) => {
        if (dirs[i]) return false;
        const type = (await head(`${root}/${path}`)) ?? fromExtension(path);
        return type !== undefined && matches(type, skip as string[]);
      }));
    },
  };
});

/** The type a file's first bytes say; undefined if they say none or it cannot be read. */
async function head(file: string): Promise<string | undefined> {
  let f: Deno.FsFile | undefined;
  try {
    f = await Deno.open(file, { read: true });
    const buf = new Uint8Array(SNIFF_LENGTH);
    const n = await f.read(buf);
    return n === null ? undefined : sniff(buf.subarray(0, n));
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) throw e; // outside its grant: say so, never guess
    return undefined;
  } finally {
    f?.close();
  }
}
