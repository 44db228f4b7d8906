import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { newRepo, tempDir } from "../../test/helpers.ts";
import type { Repository } from "../repository/repository.ts";
import { backup } from "./backup.ts";
import { diff } from "./diff.ts";

/**
 * `repo`, whose `tree(id)` runs `after(id)` once the tree is read: a diff reads the trees as it
 * walks, and compares contents only after the walk, so a change made there lands between a
 * file's listing and the reading of its contents.
 */
function onTreeRead(repo: Repository, after: (id: string) => Promise<void>): Repository {
  return new Proxy(repo, {
    get(target, key) {
      if (key === "tree") {
        return async (id: string) => {
          const tree = await target.tree(id);
          await after(id);
          return tree;
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function mkfifo(path: string): Promise<void> {
  const made = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
}

for (const engine of ["dedup", "worm"]) {
  Deno.test(`diff --content of a ${engine} snapshot reports a file swapped for a FIFO or removed before its contents are read as unreadable, each on its own, and compares the rest`, async () => {
    const { repo } = await newRepo();
    try {
      const src = await tempDir();
      fs.mkdirSync(join(src, "a"));
      fs.mkdirSync(join(src, "b"));
      for (const name of ["fifo", "gone", "kept", "edited"]) {
        fs.writeFileSync(join(src, "a", name), `the ${name} file`);
      }
      fs.writeFileSync(join(src, "b", "last"), "read last");
      const { manifest } = await backup(repo, { paths: [src], engine });
      const edited = join(src, "a", "edited");
      const st = fs.statSync(edited);
      fs.writeFileSync(edited, "the EDITED file"); // same size, same mtime: only content differs
      fs.utimesSync(edited, st.atime, st.mtime);

      // Folder "a" is walked (its files listed) before the tree of "b" is read.
      const root = await repo.tree(manifest.root);
      const top = await repo.tree(root.nodes[0].subtree!);
      const bTree = top.nodes.find((n) => n.name === "b")!.subtree!;
      let swapped = false;
      const racing = onTreeRead(repo, async (id) => {
        if (id !== bTree || swapped) return;
        swapped = true;
        fs.rmSync(join(src, "a", "fifo"));
        await mkfifo(join(src, "a", "fifo")); // no writer: reading it would wait forever
        fs.rmSync(join(src, "a", "gone"));
      });

      const changes = await diff(racing, manifest, src, { content: true });
      assert.ok(swapped);
      assert.deepEqual(
        changes.map((c) => [c.path.slice(src.length + 1), c.change, c.what]),
        [
          ["a/edited", "modified", ["content"]],
          ["a/fifo", "unreadable", undefined],
          ["a/gone", "unreadable", undefined],
        ],
      );
      assert.match(changes[1].reason!, /is (no longer )?a regular file|not a regular file/);
      assert.match(changes[2].reason!, /no such file or directory/i);
    } finally {
      await repo.storage.close();
    }
  });
}
