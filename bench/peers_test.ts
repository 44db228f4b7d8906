import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defaultCacheRoot, ensurePeer, KOPIA_VERSION, PEERS, RUSTIC_VERSION } from "./peers.ts";

/** Writes an executable `file` that prints `line`. */
function fakeBinary(file: string, line: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\necho '${line}'\n`, { mode: 0o755 });
}

Deno.test("a peer at its pinned version is found and nothing is installed; another version is not taken", async () => {
  const tools = Deno.makeTempDirSync();
  try {
    const kopia = path.join(tools, `kopia-${KOPIA_VERSION}`, "kopia");
    fakeBinary(kopia, `${KOPIA_VERSION} build: abc from: kopia/kopia`);
    const found = await ensurePeer("kopia", tools, { install: false });
    assert.deepEqual(found, {
      name: "kopia",
      binary: kopia,
      version: `${KOPIA_VERSION} build: abc from: kopia/kopia`,
      installSeconds: 0,
    });
    const rustic = path.join(tools, `rustic-${RUSTIC_VERSION}`, "bin", "rustic");
    fakeBinary(rustic, "rustic v0.10.0");
    const stale = await ensurePeer("rustic", tools, { install: false });
    assert.equal(stale.binary, undefined);
    assert.equal(stale.reason, `"${rustic}" is not installed`);
  } finally {
    fs.rmSync(tools, { recursive: true });
  }
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const realTools = path.join(defaultCacheRoot(), "tools");
/** The peers `deno task bench:peers` has not installed here (the test needs all three). */
const missing = await (async () => {
  const out: string[] = [];
  for (const name of PEERS) {
    if (!(await ensurePeer(name, realTools, { install: false })).binary) out.push(name);
  }
  return out;
})();
if (missing.length > 0) {
  console.error(`peers_test: ${missing.join(", ")} not installed (deno task bench:peers)`);
}

Deno.test({
  name:
    "one round of permafrost, restic, rustic and kopia on a tiny million corpus: every step works and the report prints ratios",
  ignore: missing.length > 0,
  async fn() {
    const cache = Deno.makeTempDirSync(), work = Deno.makeTempDirSync();
    try {
      fs.symlinkSync(realTools, path.join(cache, "tools"));
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "bench/bench.ts",
          "--corpus",
          "million",
          "--folders",
          "3",
          "--per-folder",
          "20",
          "--tools",
          "permafrost,restic,rustic,kopia",
          "--no-install",
          "--no-amplification",
          "--chunker-mib",
          "0",
          "--cache",
          cache,
          "--work",
          work,
        ],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      const err = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${text}\n${err}`);
      assert.doesNotMatch(text, /FAILED|WRONG|not available/);
      for (const tool of ["permafrost", "restic", "rustic", "kopia"]) {
        for (const step of ["first backup", "no-change backup", "full restore", "ls one folder"]) {
          assert.match(text, new RegExp(`^${step} +${tool} +\\d+\\.\\d\\d `, "m"));
        }
        assert.match(text, new RegExp(`^${tool} restore: identical \\(60 files`, "m"));
      }
      assert.match(text, /^find a name +kopia +- +- +- +-$/m);
      assert.match(text, /^restore one file +kopia +\d+\.\d\d /m);
      for (const peer of ["restic", "rustic", "kopia"]) {
        assert.match(
          text,
          new RegExp(`^${peer} +first backup +\\d+\\.\\d\\dx +\\d+\\.\\d\\dx$`, "m"),
        );
      }
      assert.equal(fs.readdirSync(work).length, 0, "workspaces are removed");
    } finally {
      fs.rmSync(cache, { recursive: true });
      fs.rmSync(work, { recursive: true });
    }
  },
});
