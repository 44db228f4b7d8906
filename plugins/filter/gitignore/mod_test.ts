import assert from "node:assert/strict";
import { startPlugin } from "../../../host/plugin/sandbox.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "pf-gitignore-mod-" }));
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The filter started as the backup would: its source `root` granted as `$sources`. */
function start(root: string, config: unknown) {
  return startPlugin({ kind: "filter", name: "gitignore", vars: { $sources: [root] }, config });
}

Deno.test("the gitignore filter may read its roots and nothing else", async () => {
  await withDir(async (dir) => {
    const h = await start(dir, { roots: [dir] });
    try {
      assert.deepEqual(h.permissions, {
        read: [dir],
        write: false,
        net: false,
        env: false,
        sys: false,
        run: false,
        ffi: false,
        import: false,
      });
    } finally {
      await h.close();
    }
  });
});

Deno.test("the gitignore filter answers match() in its sandbox", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/logs/deep`, { recursive: true });
    await Deno.writeTextFile(`${dir}/.gitignore`, "*.log\n!keep.log\nbuild/\n");
    await Deno.writeTextFile(`${dir}/logs/.gitignore`, "deep/\n");
    const h = await start(dir, { roots: [dir] });
    try {
      const result = await h.call(
        "match",
        ["a.log", "keep.log", "build", "build", "logs/deep", `${dir}/logs/x.log`, "src"],
        [false, false, false, true, true, false, true],
      );
      assert.deepEqual(result, [true, false, false, true, true, true, false]);
      await assert.rejects(h.call("match", ["a"], []), TypeError);
    } finally {
      await h.close();
    }
  });
});

Deno.test("with two roots, match() takes paths relative to the root the walker names", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/one`);
    await Deno.mkdir(`${dir}/two`);
    await Deno.writeTextFile(`${dir}/one/.gitignore`, "*.log\n");
    await Deno.writeTextFile(`${dir}/two/.gitignore`, "*.txt\n");
    const h = await startPlugin({
      kind: "filter",
      name: "gitignore",
      vars: { $sources: [`${dir}/one`, `${dir}/two`] },
      config: { roots: [`${dir}/one`, `${dir}/two`] },
    });
    try {
      const paths = ["a.log", "a.txt"], dirs = [false, false];
      assert.deepEqual(await h.call("match", paths, dirs, `${dir}/one`), [true, false]);
      assert.deepEqual(await h.call("match", paths, dirs, `${dir}/two`), [false, true]);
      await assert.rejects(h.call("match", paths, dirs), /relative, but .* has 2 roots/);
      await assert.rejects(h.call("match", ["../two/a.txt"], [false], `${dir}/one`), TypeError);
      await assert.rejects(h.call("match", paths, dirs, "relative"), TypeError);
    } finally {
      await h.close();
    }
  });
});

Deno.test("the gitignore filter cannot read outside its roots, and says so", async () => {
  await withDir(async (dir) => {
    // A `.git` file inside the root that leads to a git folder outside it.
    await Deno.mkdir(`${dir}/root/sub`, { recursive: true });
    await Deno.mkdir(`${dir}/elsewhere/objects`, { recursive: true });
    await Deno.mkdir(`${dir}/elsewhere/refs`);
    await Deno.writeTextFile(`${dir}/elsewhere/HEAD`, "ref: refs/heads/main\n");
    await Deno.writeTextFile(`${dir}/root/sub/.git`, `gitdir: ${dir}/elsewhere\n`);
    const h = await start(`${dir}/root`, { roots: [`${dir}/root`] });
    try {
      assert.deepEqual(await h.call("match", ["a"], [false]), [false]);
      await assert.rejects(
        h.call("match", ["sub/x"], [false]),
        (e: Error) => {
          assert.ok(e instanceof Deno.errors.NotCapable, `${e.name}: ${e.message}`);
          assert.match(e.message, new RegExp(`"${dir}/elsewhere/HEAD"`));
          assert.match(e.message, /outside the backup sources/);
          return true;
        },
      );
    } finally {
      await h.close();
    }
  });
});

Deno.test("a .gitignore the filter must not read fails the match with the error's class", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/.gitignore`, "");
    await Deno.truncate(`${dir}/.gitignore`, 100_000_001); // sparse: costs no disk
    const h = await start(dir, { roots: [dir] });
    try {
      await assert.rejects(h.call("match", ["x"], [false]), RangeError);
    } finally {
      await h.close();
    }
  });
});

Deno.test("the gitignore filter refuses to start on a config it cannot use", async () => {
  await withDir(async (dir) => {
    const bad = [
      undefined,
      {},
      { roots: [] },
      { roots: ["relative"] },
      { roots: [`${dir}/`] },
      { roots: [dir, `${dir}/inner`] },
      { roots: [dir], extra: 1 },
      { roots: [{ path: dir, worktree: { top: `${dir}/below` } }] },
      { roots: [{ path: dir, worktree: { top: "/", exclude: "*.o" } }] },
    ];
    for (const config of bad) {
      await assert.rejects(start(dir, config), TypeError, JSON.stringify(config));
    }
  });
});
