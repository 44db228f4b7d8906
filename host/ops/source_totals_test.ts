import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { sourceTotals } from "./source_totals.ts";
import { newRepo, tempDir, writeSampleTree } from "../../test/helpers.ts";
import { backup } from "./backup.ts";
import { BackupFilters, type SourceFilters } from "./backup_filters.ts";

/** The signature a CACHEDIR.TAG starts with (https://bford.info/cachedir/). */
const CACHEDIR_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55";

Deno.test("sourceTotals() counts the files and bytes a backup of the same sources counts, with and without every filter", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  fs.writeFileSync(join(src, "one more.txt"), "x".repeat(1000));
  fs.writeFileSync(join(src, ".gitignore"), "*.md\n!hardlink.md\n");
  fs.mkdirSync(join(src, "cache"));
  fs.writeFileSync(join(src, "cache", "CACHEDIR.TAG"), `${CACHEDIR_SIGNATURE}\n`);
  fs.writeFileSync(join(src, "cache", "big.bin"), "y".repeat(5000));
  const other = await tempDir();
  fs.writeFileSync(join(other, "a.md"), "ignored under the other source too");
  fs.writeFileSync(join(other, ".gitignore"), "*.md\n");
  const { repo } = await newRepo();
  const sources = [src, join(src, "hello.txt"), other];
  const cases: SourceFilters[] = [
    {},
    { excludes: ["docs/deep", "*.bin"] },
    {
      excludes: ["docs/deep"],
      gitIgnore: true,
      excludeIfPresent: ["CACHEDIR.TAG"],
      excludeLargerThan: 2000,
    },
  ];
  const counted: number[] = [];
  try {
    for (const filters of cases) {
      const { manifest } = await backup(repo, { paths: sources, ...filters });
      counted.push(manifest.stats.files);
      const running = await BackupFilters.start(sources, filters);
      try {
        const totals = await sourceTotals(sources, {
          excluded: running.on ? running.match : undefined,
          excludeIfPresent: filters.excludeIfPresent,
          excludeLargerThan: filters.excludeLargerThan,
        });
        assert.deepEqual(
          totals,
          { files: manifest.stats.files, bytes: manifest.stats.bytes },
          JSON.stringify(filters),
        );
      } finally {
        await running.close();
      }
    }
    assert.ok(
      counted[0] > counted[1] && counted[1] > counted[2],
      `each leaves out more: ${counted}`,
    );
  } finally {
    await repo.storage.close();
  }
});

Deno.test("sourceTotals() counts no symlink, fifo or folder, and a source that is missing as nothing", async () => {
  const src = await tempDir();
  fs.writeFileSync(join(src, "a"), "12345");
  fs.symlinkSync("a", join(src, "link"));
  fs.mkdirSync(join(src, "empty"));
  assert.ok(new Deno.Command("mkfifo", { args: [join(src, "pipe")] }).outputSync().success);
  assert.deepEqual(await sourceTotals([src, join(src, "gone")]), { files: 1, bytes: 5 });
  assert.deepEqual(await sourceTotals([join(src, "link")]), { files: 0, bytes: 0 });
});

Deno.test("sourceTotals() resolves to undefined when stopped, or when its filter fails", async () => {
  const src = await tempDir();
  fs.mkdirSync(join(src, "sub"));
  fs.writeFileSync(join(src, "sub", "a"), "a");
  const stop = new AbortController();
  stop.abort();
  assert.equal(await sourceTotals([src], { signal: stop.signal }), undefined);
  const closed = () => Promise.reject(new Error("the filter was closed"));
  assert.equal(await sourceTotals([src], { excluded: closed }), undefined);
});
