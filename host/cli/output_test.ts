import assert from "node:assert/strict";
import { modeString } from "./cmd_ls.ts";
import { bytes, plural, printable } from "./context.ts";
import { table } from "./cmd_snapshots.ts";

Deno.test("modeString() shows setuid, setgid and sticky bits as ls -l does", () => {
  assert.equal(modeString("file", 0o644), "-rw-r--r--");
  assert.equal(modeString("file", 0o4755), "-rwsr-xr-x");
  assert.equal(modeString("file", 0o2644), "-rw-r-Sr--");
  assert.equal(modeString("dir", 0o1777), "drwxrwxrwt");
  assert.equal(modeString("symlink", 0o777), "lrwxrwxrwx");
});

Deno.test("printable() escapes control characters so a file name cannot drive the terminal", () => {
  assert.equal(printable("a\nb\x1b[2Jc\td"), "a\\nb\\x1b[2Jc\\td");
  assert.equal(printable("Ünïcødé 名前 🧊"), "Ünïcødé 名前 🧊");
});

Deno.test("bytes() rounds small counts and uses binary units", () => {
  assert.equal(bytes(42.7608), "43 B");
  assert.equal(bytes(1536), "1.5 KiB");
  assert.equal(bytes(20 * 2 ** 20), "20.0 MiB");
});

Deno.test("plural() takes the singular for exactly one", () => {
  assert.equal(plural(1, "file"), "1 file");
  assert.equal(plural(0, "pack"), "0 packs");
  assert.equal(plural(2, "entry", "entries"), "2 entries");
  assert.equal(plural(12345, "blob"), "12,345 blobs");
});

Deno.test("table() pads each column to its widest cell, counts to the right", () => {
  assert.equal(
    table(["ID", "n", "path"], [["a", "1", "/x"], ["bbb", "100", "/y"]], [1]),
    "ID     n  path\na      1  /x\nbbb  100  /y",
  );
});
