/**
 * The local copy of the key object (host/cache/key_copy.ts, docs/format.md §10a): what counts
 * as a copy when someone who can write the cache folder, or bad luck, put something else there.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join, resolve } from "node:path";
import { readKeyCopy, writeKeyCopy } from "./key_copy.ts";
import { tempDir } from "../../test/helpers.ts";

const BYTES = new TextEncoder().encode('{"version":2}');

/** A cache folder holding a copy for `location`, and the copy's path. */
async function cacheWithCopy(location: string): Promise<{ cache: string; file: string }> {
  const cache = await tempDir("pf-key-copy-");
  writeKeyCopy(cache, location, BYTES);
  const [name] = fs.readdirSync(join(cache, "key-copies"));
  return { cache, file: join(cache, "key-copies", name) };
}

Deno.test("a copy written for a location is read back for it, and for no other", async () => {
  const { cache } = await cacheWithCopy("s3:bucket/repo?region=eu-west-1");
  assert.deepEqual(readKeyCopy(cache, "s3:bucket/repo?region=eu-west-1"), BYTES);
  assert.equal(readKeyCopy(cache, "s3:bucket/repo"), undefined);
});

Deno.test("a FIFO in place of the copy is no copy, and reading it does not wait for a writer", async () => {
  const { cache, file } = await cacheWithCopy("/srv/repo");
  fs.rmSync(file);
  await new Deno.Command("mkfifo", { args: [file] }).output();
  assert.ok(fs.lstatSync(file).isFIFO());
  assert.equal(readKeyCopy(cache, "/srv/repo"), undefined);
});

Deno.test("a symlink in place of the copy is not followed", async () => {
  const { cache, file } = await cacheWithCopy("/srv/repo");
  const elsewhere = join(await tempDir(), "planted");
  fs.writeFileSync(elsewhere, BYTES);
  fs.rmSync(file);
  fs.symlinkSync(elsewhere, file);
  assert.equal(readKeyCopy(cache, "/srv/repo"), undefined);
  writeKeyCopy(cache, "/srv/repo", BYTES); // the open's replacement goes over the link itself
  assert.ok(fs.lstatSync(file).isFile());
  assert.deepEqual(readKeyCopy(cache, "/srv/repo"), BYTES);
});

Deno.test("a copy larger than any key object is no copy", async () => {
  const { cache, file } = await cacheWithCopy("/srv/repo");
  fs.writeFileSync(file, new Uint8Array(1 << 20));
  const read = readKeyCopy(cache, "/srv/repo");
  assert.ok(read === undefined, `read ${read?.length} bytes`);
});

Deno.test("a relative folder location shares its copy with its absolute path, not with the same words elsewhere", async () => {
  const { cache } = await cacheWithCopy("repo");
  assert.deepEqual(readKeyCopy(cache, resolve("repo")), BYTES);
  assert.deepEqual(readKeyCopy(cache, `local:${resolve("repo")}`), BYTES);
  assert.equal(readKeyCopy(cache, "/elsewhere/repo"), undefined);
  assert.equal(readKeyCopy(cache, "sqlite:repo"), undefined);
});
