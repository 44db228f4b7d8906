import assert from "node:assert/strict";
import { GitignoreMatcher } from "./gitignore_matcher.ts";

/** A temporary folder holding `files` (path → content; a path ending in `/` is a folder). */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pf-gitignore-" });
  for (const [path, content] of Object.entries(files)) {
    const abs = `${dir}/${path}`;
    if (path.endsWith("/")) {
      await Deno.mkdir(abs, { recursive: true });
    } else {
      await Deno.mkdir(abs.slice(0, abs.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(abs, content);
    }
  }
  return dir;
}

/** Runs `body` on a fresh tree, then removes it. */
async function withTree(
  files: Record<string, string>,
  body: (dir: string) => void | Promise<void>,
): Promise<void> {
  const dir = await tree(files);
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A fake git folder that git takes for a repository (HEAD, objects/, refs/). */
const GIT_DIR = { ".git/HEAD": "ref: refs/heads/main\n", ".git/objects/": "", ".git/refs/": "" };

Deno.test("a deeper .gitignore decides before a shallower one, both before info/exclude", async () => {
  await withTree({
    ...GIT_DIR,
    ".git/info/exclude": "*.tmp\n!*.log\n",
    ".gitignore": "*.log\n",
    "a/.gitignore": "!keep.log\n",
    "a/b/.gitignore": "keep.log\n",
  }, (dir) => {
    const m = new GitignoreMatcher([{ path: dir }]);
    assert.equal(m.excluded("x.log", false), true); // .gitignore beats info/exclude's !*.log
    assert.equal(m.excluded("x.tmp", false), true);
    assert.equal(m.excluded("a/keep.log", false), false);
    assert.equal(m.excluded("a/b/keep.log", false), true);
    assert.equal(m.decision("a/keep.log", false)?.source, `${dir}/a/.gitignore`);
    assert.equal(m.decision("x.tmp", false)?.source, `${dir}/.git/info/exclude`);
  });
});

Deno.test("nothing inside an excluded folder comes back, not even by its own .gitignore", async () => {
  await withTree({
    ".gitignore": "logs/\n!logs/keep.log\n",
    "logs/.gitignore": "!*\n",
    "cache/.gitignore": "",
  }, (dir) => {
    const m = new GitignoreMatcher([{ path: dir }]);
    assert.equal(m.excluded("logs", true), true);
    assert.equal(m.excluded("logs/keep.log", false), true);
    assert.equal(m.excluded("logs/deep/x", false), true);
    assert.equal(m.decision("logs/deep/x", false)?.rule.line, 1);
  });
});

Deno.test("a ! rule re-includes a file when its folder is not excluded", async () => {
  await withTree({ ".gitignore": "logs/*\n!logs/keep.log\n" }, (dir) => {
    const m = new GitignoreMatcher([{ path: dir }]);
    assert.equal(m.excluded("logs", true), false);
    assert.equal(m.excluded("logs/other", false), true);
    assert.equal(m.excluded("logs/keep.log", false), false);
  });
});

Deno.test(".git and everything in it is kept, whatever the rules say", async () => {
  await withTree({ ...GIT_DIR, ".gitignore": ".*\n*\n" }, (dir) => {
    const m = new GitignoreMatcher([{ path: dir }]);
    assert.equal(m.excluded(".git", true), false);
    assert.equal(m.excluded(".git/objects", true), false);
    assert.equal(m.excluded(".git/HEAD", false), false);
    assert.equal(m.excluded(".gitignore", false), true);
    assert.equal(m.excluded("sub/.git", false), true); // "*" excludes "sub" first
  });
});

Deno.test("a folder with a .git of its own starts a new work tree with its own rules", async () => {
  await withTree({
    ".gitignore": "*.log\ninner/skip/\n",
    "inner/.git/HEAD": "ref: refs/heads/main\n",
    "inner/.git/objects/": "",
    "inner/.git/refs/": "",
    "inner/.git/info/exclude": "*.tmp\n",
    "fake/.git/": "", // no HEAD: not a repository, so not a work tree
  }, (dir) => {
    const m = new GitignoreMatcher([{ path: dir }]);
    assert.equal(m.excluded("x.log", false), true);
    assert.equal(m.excluded("inner/x.log", false), false);
    assert.equal(m.excluded("inner/skip", true), false);
    assert.equal(m.excluded("inner/x.tmp", false), true);
    assert.equal(m.excluded("fake/x.log", false), true);
  });
});

Deno.test("a .gitignore that is a symlink is not followed, as git does not follow it", async () => {
  await withTree({ "rules": "*\n", "sub/x": "" }, async (dir) => {
    await Deno.symlink(`${dir}/rules`, `${dir}/sub/.gitignore`);
    const m = new GitignoreMatcher([{ path: dir }]);
    assert.equal(m.excluded("sub/x", false), false);
  });
});

Deno.test("a .gitignore larger than git's limit is refused with a RangeError naming it", async () => {
  await withTree({ ".gitignore": "" }, async (dir) => {
    await Deno.truncate(`${dir}/.gitignore`, 100_000_001); // sparse: costs no disk
    const m = new GitignoreMatcher([{ path: dir }]);
    assert.throws(() => m.excluded("x", false), (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, new RegExp(`"${dir}/.gitignore": it holds 100000001 bytes`));
      return true;
    });
  });
});

Deno.test("a root inside a work tree follows the rules the host read above it", async () => {
  await withTree({ "top/sub/root/a/b": "", "top/sub/root/c.log": "" }, (dir) => {
    const root = `${dir}/top/sub/root`;
    const bytes = (s: string) => new TextEncoder().encode(s);
    const m = new GitignoreMatcher([{
      path: root,
      worktree: {
        top: `${dir}/top`,
        exclude: bytes("*.log\n"),
        gitignores: { [`${dir}/top`]: bytes("/sub/root/a/\n"), [`${dir}/top/sub`]: bytes("b\n") },
      },
    }]);
    assert.equal(m.excluded("a", true), true);
    assert.equal(m.excluded("c.log", false), true);
    assert.equal(m.excluded("x/b", false), true);
    assert.equal(m.excluded("x/c", false), false);
    const gone = new GitignoreMatcher([{
      path: root,
      worktree: { top: `${dir}/top`, gitignores: { [`${dir}/top`]: bytes("sub/\n") } },
    }]);
    assert.equal(gone.excluded("x/c", false), true); // git ignores the root's folder "sub"
    const atTop = new GitignoreMatcher([{
      path: root,
      worktree: { top: root, exclude: bytes("a\n") },
    }]);
    assert.equal(atTop.excluded("a", true), true);
    assert.equal(atTop.excluded("c.log", false), false);
  });
});

Deno.test("absolute and relative paths get the same answers", async () => {
  await withTree({ ".gitignore": "/a/b\n" }, (dir) => {
    const m = new GitignoreMatcher([{ path: dir }]);
    assert.equal(m.excluded("a/b", false), true);
    assert.equal(m.excluded(`${dir}/a/b`, false), true);
    assert.equal(m.excluded(`${dir}/a/c`, false), false);
  });
});

Deno.test("a path outside the roots, with odd segments, or relative among roots is refused", async () => {
  await withTree({ "r1/": "", "r2/": "" }, (dir) => {
    const one = new GitignoreMatcher([{ path: `${dir}/r1` }]);
    assert.throws(() => one.excluded(`${dir}/r2/x`, false), TypeError);
    assert.throws(() => one.excluded(`${dir}/r1x`, false), TypeError);
    assert.throws(() => one.excluded("a/../b", false), TypeError);
    assert.throws(() => one.excluded("a//b", false), TypeError);
    const two = new GitignoreMatcher([{ path: `${dir}/r1` }, { path: `${dir}/r2` }]);
    assert.throws(() => two.excluded("x", false), /give absolute paths/);
    assert.equal(two.excluded(`${dir}/r2/x`, false), false);
  });
});

Deno.test("roots that nest are refused", () => {
  assert.throws(() => new GitignoreMatcher([{ path: "/a" }, { path: "/a/b" }]), /nest/);
  assert.throws(() => new GitignoreMatcher([{ path: "/" }, { path: "/a" }]), /nest/);
  assert.throws(() => new GitignoreMatcher([{ path: "/a" }, { path: "/a" }]), /nest/);
  new GitignoreMatcher([{ path: "/a" }, { path: "/ab" }]);
});

Deno.test("answers stay the same when the cache is emptied on every folder", async () => {
  await withTree({
    ".gitignore": "*.o\n!keep.o\n",
    "a/.gitignore": "b/\n",
    "a/x/.gitignore": "!*.o\n",
  }, (dir) => {
    const paths: [string, boolean][] = [
      ["a/b", true],
      ["a/b/c", false],
      ["a/x/y.o", false],
      ["a/y.o", false],
      ["keep.o", false],
      ["a/x/b/z", false],
    ];
    const roomy = new GitignoreMatcher([{ path: dir }]);
    const tight = new GitignoreMatcher([{ path: dir }], { states: 1, ruleBytes: 1 });
    for (const [p, isDir] of [...paths, ...paths.reverse()]) {
      assert.equal(tight.excluded(p, isDir), roomy.excluded(p, isDir), p);
    }
  });
});

Deno.test("a .git that loops or is huge is no repository, as to git, and is read no further", async () => {
  await withTree({ ".gitignore": "*.o\n", "loop/x.o": "", "big/x.o": "" }, async (dir) => {
    await Deno.symlink(`${dir}/loop/.git`, `${dir}/loop/.git`);
    await Deno.writeTextFile(`${dir}/big/.git`, "");
    await Deno.truncate(`${dir}/big/.git`, 1 << 30); // sparse; only its first 4 KiB are read
    const m = new GitignoreMatcher([{ path: dir }]);
    assert.equal(m.excluded("loop/x.o", false), true);
    assert.equal(m.excluded("big/x.o", false), true);
  });
});
