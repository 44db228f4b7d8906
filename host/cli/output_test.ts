import assert from "node:assert/strict";
import { modeString } from "./cmd_ls.ts";
import { bytes, printable } from "./context.ts";

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
