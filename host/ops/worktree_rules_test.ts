import assert from "node:assert/strict";
import { git, gitInit } from "../../test/support/git.ts";
import { readWorktreeRules } from "./worktree_rules.ts";

const text = (b: Uint8Array | undefined) => b && new TextDecoder().decode(b);

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "pf-gitignore-wt-" }));
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a root in no work tree has no worktree rules", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/src`);
    assert.equal(readWorktreeRules(`${dir}/src`), undefined);
  });
});

Deno.test("a root inside a work tree gets its top, info/exclude and the .gitignore files above", async () => {
  await withDir(async (dir) => {
    await gitInit(dir);
    await Deno.mkdir(`${dir}/.git/info`);
    await Deno.writeTextFile(`${dir}/.git/info/exclude`, "*.tmp\n");
    await Deno.mkdir(`${dir}/a/b/root`, { recursive: true });
    await Deno.writeTextFile(`${dir}/.gitignore`, "top\n");
    await Deno.writeTextFile(`${dir}/a/b/.gitignore`, "ab\n");
    await Deno.writeTextFile(`${dir}/a/b/root/.gitignore`, "own\n");
    const w = readWorktreeRules(`${dir}/a/b/root`)!;
    assert.equal(w.top, dir);
    assert.equal(text(w.exclude), "*.tmp\n");
    assert.deepEqual(Object.keys(w.gitignores!).sort(), [dir, `${dir}/a/b`]);
    assert.equal(text(w.gitignores![`${dir}/a/b`]), "ab\n");
    const atTop = readWorktreeRules(dir)!;
    assert.deepEqual(atTop.gitignores, {});
    assert.equal(text(atTop.exclude), "*.tmp\n");
  });
});

Deno.test("a linked work tree's info/exclude is read from the common git folder", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/main`);
    await gitInit(`${dir}/main`);
    const who = ["-c", "user.name=t", "-c", "user.email=t@example.org"];
    await git(`${dir}/main`, [...who, "commit", "-q", "--allow-empty", "-m", "first"]);
    await git(`${dir}/main`, ["worktree", "add", "-q", `${dir}/linked`]);
    await Deno.mkdir(`${dir}/main/.git/info`, { recursive: true });
    await Deno.writeTextFile(`${dir}/main/.git/info/exclude`, "shared\n");
    const w = readWorktreeRules(`${dir}/linked`)!;
    assert.equal(w.top, `${dir}/linked`);
    assert.equal(text(w.exclude), "shared\n");
  });
});

Deno.test("a root inside a .git folder has no worktree rules", async () => {
  await withDir(async (dir) => {
    await gitInit(dir);
    assert.equal(readWorktreeRules(`${dir}/.git`), undefined);
  });
});
