/**
 * A full disk during a backup (issue #12, case 10): the user sees one line naming the object,
 * the cause and what to do, and no uncaught worker exception with a stack trace before it.
 *
 * The disk is made full by a storage wrapper whose pack writes fail as the local store's do on a
 * full disk (its message is tested in plugins/storage/local/local_store_test.ts), in a child
 * process, so that what the runtime prints for an uncaught error in a plugin worker is seen.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { newRepo, randomBytes, tempDir } from "./helpers.ts";

const url = (path: string) => new URL(path, import.meta.url).href;
/** The project's configuration (its import map), for the program written outside it. */
const config = new URL("../deno.json", import.meta.url).pathname;

/** A program that backs up `src` into `dir` through a store whose disk is full for packs. */
const driver = `
import { backup } from "${url("../host/ops/backup.ts")}";
import { explain } from "${url("../host/cli/explain.ts")}";
import { Repository } from "${url("../host/repository/repository.ts")}";
import { openStorage } from "${url("../host/storage/open.ts")}";
import { PASSWORD } from "${url("./helpers.ts")}";

const [dir, src, engine] = Deno.args;
// What the local store says on a full disk (plugins/storage/local/local_store.ts diskFull).
const FULL = \`could not be written to the repository folder "\${dir}": the disk is full; \` +
  "free space there (or use a repository on another disk) and run the command again";
const inner = await openStorage(dir, "admin");
const full = {
  create: (name, data, options) => {
    if (!name.startsWith("packs/")) return inner.create(name, data, options);
    return Promise.reject(new Error(\`object "\${name}" \${FULL}\`));
  },
  read: (name, range) => inner.read(name, range),
  stat: (name) => inner.stat(name),
  list: (prefix) => inner.list(prefix),
  requestRestore: (name, options) => inner.requestRestore(name, options),
  delete: (name) => inner.delete(name),
  strays: () => inner.strays(),
  removeStray: (name) => inner.removeStray(name),
  close: () => inner.close(),
};
const repo = await Repository.open(full, { passphrase: PASSWORD });
try {
  await backup(repo, { paths: [src], engine });
} catch (err) {
  console.error(\`permafrost: \${explain(err).message}\`);
  Deno.exitCode = 1;
} finally {
  await inner.close();
}
`;

/** Runs the driver over `src` with `engine`; its exit status and standard error. */
async function backupOntoFullDisk(src: string, engine: string) {
  const { dir, repo } = await newRepo();
  await repo.storage.close();
  const program = join(await tempDir(), "full_disk_driver.ts");
  fs.writeFileSync(program, driver);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      "--no-check",
      "--config",
      config,
      program,
      dir,
      src,
      engine,
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const FULL_DISK_LINE =
  /^permafrost: object "packs\/[0-9a-f]{64}" could not be written to the repository folder "[^"]+": the disk is full; free space there \(or use a repository on another disk\) and run the command again\n$/;

Deno.test("a backup onto a full disk prints one line that names the object and says what to do, without a stack trace", async () => {
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(2_500_000, 121));
  const { code, stderr } = await backupOntoFullDisk(src, "dedup");
  assert.equal(code, 1, stderr);
  assert.match(stderr, FULL_DISK_LINE);
});

for (const engine of ["dedup", "worm"]) {
  Deno.test(`a ${engine} backup of many folders onto a full disk prints the same one line: the engine's walk leaves no failure unobserved`, async () => {
    // The disk fills while the walk still reads: folders whose files wait on the failed store.
    const src = await tempDir();
    for (let d = 0; d < 30; d++) {
      fs.mkdirSync(join(src, `d${d}`));
      for (let f = 0; f < 40; f++) {
        fs.writeFileSync(join(src, `d${d}`, `f${f}`), randomBytes(20_000, d * 40 + f + 1));
      }
    }
    const { code, stderr } = await backupOntoFullDisk(src, engine);
    assert.equal(code, 1, stderr);
    assert.doesNotMatch(stderr, /Uncaught|crashed|\n\s+at /);
    assert.match(stderr, FULL_DISK_LINE);
  });
}
