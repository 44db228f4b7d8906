/**
 * Test support: running the real git (`/usr/bin/git`) in a clean environment, as the oracle
 * for the `.gitignore` filter. Git runs with `HOME` and `XDG_CONFIG_HOME` in an empty folder,
 * `GIT_CONFIG_NOSYSTEM=1` and no other variable, so that, like the filter, it reads no user or
 * system configuration (no `core.excludesFile`). The folder is removed when the test module ends.
 *
 * @module
 */

const GIT = "/usr/bin/git";

let emptyHome: string | undefined;
globalThis.addEventListener("unload", () => {
  if (emptyHome) Deno.removeSync(emptyHome, { recursive: true });
});

function gitEnv(): Record<string, string> {
  emptyHome ??= Deno.makeTempDirSync({ prefix: "pf-gitignore-home-" });
  return {
    HOME: emptyHome,
    XDG_CONFIG_HOME: emptyHome,
    GIT_CONFIG_NOSYSTEM: "1",
    PATH: "/usr/bin:/bin",
    LC_ALL: "C",
  };
}

/**
 * Runs git in `cwd`, with `input` on its standard input; resolves to its standard output, rejects
 * with its error output. `codes` are the exit codes that count as success.
 */
export async function git(
  cwd: string,
  args: string[],
  input?: Uint8Array,
  codes = [0],
): Promise<Uint8Array> {
  const child = new Deno.Command(GIT, {
    args,
    cwd,
    env: gitEnv(),
    clearEnv: true,
    stdin: input ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input) {
    const writer = child.stdin.getWriter();
    await writer.write(input);
    await writer.close();
  }
  const out = await child.output();
  if (!codes.includes(out.code)) {
    throw new Error(`git ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

/** Makes `dir` a git repository (no hooks or other template files). */
export async function gitInit(dir: string): Promise<void> {
  await git(dir, ["init", "-q", "--template=", "."]);
}

/**
 * The files git would add in the work tree at `dir` (`git ls-files --others --exclude-standard`,
 * the untracked files that are not ignored), relative to `dir`. Nested repositories show as
 * `name/`.
 */
export async function gitIncluded(dir: string): Promise<Set<string>> {
  const out = await git(dir, ["ls-files", "-z", "--others", "--exclude-standard"]);
  return new Set(new TextDecoder().decode(out).split("\0").filter((p) => p !== ""));
}

/**
 * For each of `paths` (relative to the work tree at `dir`), the rule that decides it, as
 * `git check-ignore --no-index -v` reports it: `<file>:<line>` (the file relative to `dir`),
 * the rule of the excluded folder for a path inside one, or `""` when no rule matches.
 */
export async function gitDecisions(dir: string, paths: string[]): Promise<Map<string, string>> {
  const input = new TextEncoder().encode(paths.map((p) => p + "\0").join(""));
  const args = ["check-ignore", "-z", "-v", "-n", "--no-index", "--stdin"];
  const out = new TextDecoder().decode(await git(dir, args, input, [0, 1]));
  const fields = out.split("\0");
  const decisions = new Map<string, string>();
  for (let i = 0; i + 3 < fields.length; i += 4) {
    const [source, line, , path] = fields.slice(i, i + 4);
    decisions.set(path, source === "" ? "" : `${source}:${line}`);
  }
  return decisions;
}
