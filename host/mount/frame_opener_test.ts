import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { newRepo, randomBytes, reopen, tempDir } from "../../test/helpers.ts";
import { backup } from "../ops/backup.ts";
import { FileReader } from "./file_reader.ts";

/** Records every `new Worker` until `restore()`. */
function recordWorkers(): { workers: Worker[]; restore: () => void } {
  const workers: Worker[] = [];
  const Original = globalThis.Worker;
  globalThis.Worker = class extends Original {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      workers.push(this);
    }
  };
  return { workers, restore: () => globalThis.Worker = Original };
}

Deno.test("a frame worker that crashes is replaced: reads after it return the file's bytes", async () => {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  const bytes = randomBytes(600_000, 11);
  fs.writeFileSync(join(src, "data.bin"), bytes);
  const { id } = await backup(repo, { paths: [src] });
  await repo.storage.close();
  const r = await reopen(dir);
  await r.loadIndex();
  const tree = await r.tree((await r.snapshot(id!)).manifest.root);
  const top = await r.tree(tree.nodes[0].subtree!);
  const content = top.nodes.find((n) => n.name === "data.bin")!.content!;
  const { workers, restore } = recordWorkers();
  const reader = new FileReader(r, 0);
  try {
    const layout = reader.layout(content);
    assert.deepEqual(await reader.read(layout, 0, bytes.length), bytes);
    // Each worker dies of an uncaught error (a second start message is one it cannot take).
    const died = workers.map((w) =>
      new Promise<void>((resolve) => w.addEventListener("error", () => resolve()))
    );
    const inFlight = reader.read(layout, 0, bytes.length).then(
      (got) => assert.deepEqual(got, bytes),
      (err) => assert.match(err.message, /a mount's frame worker failed/),
    );
    for (const w of workers) w.postMessage("not a start message");
    await Promise.all(died);
    await inFlight; // settled: the bytes, or the failure of a call the dead worker had
    assert.deepEqual(await reader.read(layout, 0, bytes.length), bytes);
    assert.equal(workers.length, 4); // the two first and their replacements
  } finally {
    restore();
    reader.close();
    await r.storage.close();
  }
});
