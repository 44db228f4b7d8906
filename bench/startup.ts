/**
 * `deno run --allow-all bench/startup.ts [--runs N] [--no-npx]`: how long a short command takes
 * from start to exit (docs/bench.md "Start-up (issue #16)").
 *
 * Installs this checkout's command with `deno task install` into a temporary root (the user's
 * own install is left alone), makes a fresh local repository with one small snapshot at the
 * default key-derivation cost, then times, after one warm-up run each, N rounds in alternating
 * order: `permafrost --help` and `permafrost snapshots` through the installed command, through
 * `deno task -q pf`, and through `npx -y deno task -q pf` (the README's first run; `--no-npx`
 * leaves it out). Prints the median, min and max wall time of each, in seconds.
 *
 * Exit code: 0; 1 when a run fails (its stderr is printed); 2 for bad arguments.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** One way to start the command, as the words before the command's own arguments. */
interface Launcher {
  name: string;
  argv: string[];
}

/** Installs the command with `deno task install`, into `root`; returns its path. */
async function install(root: string): Promise<string> {
  await run([Deno.execPath(), "task", "-q", "install", "--root", root], {});
  return join(root, "bin", "permafrost");
}

/** Runs `argv` in this checkout; throws with its stderr when it fails. Returns seconds taken. */
async function run(argv: string[], env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - start) / 1000;
  if (!out.success) {
    throw new Error(
      `"${argv.join(" ")}" exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return seconds;
}

/** The median, min and max of `xs`. */
function summary(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { runs: { type: "string", default: "7" }, "no-npx": { type: "boolean" } },
    }));
  } catch (err) {
    console.error(`startup: ${err instanceof Error ? err.message : err}`);
    return 2;
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`startup: --runs "${values.runs}" is not a whole number of runs`);
    return 2;
  }
  const tmp = await Deno.makeTempDir({ prefix: "pf-startup-" });
  try {
    // The installed command runs `deno` from PATH: this one.
    const path = `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`;
    const env = {
      PATH: path,
      PERMAFROST_REPO: join(tmp, "repo"),
      PERMAFROST_PASSWORD: "startup bench",
      PERMAFROST_CACHE_DIR: join(tmp, "cache"),
      PERMAFROST_STATE_DIR: join(tmp, "state"),
      PERMAFROST_CONFIG: join(tmp, "none.toml"),
      NO_COLOR: "1",
    };
    await Deno.writeTextFile(join(tmp, "none.toml"), "");
    const installed = await install(join(tmp, "root"));
    await Deno.mkdir(join(tmp, "src"));
    await Deno.writeTextFile(join(tmp, "src", "a.txt"), "hello\n");
    await run([installed, "init"], env);
    await run([installed, "backup", join(tmp, "src")], env);

    const launchers: Launcher[] = [
      { name: "installed `permafrost`", argv: [installed] },
      { name: "`deno task -q pf`", argv: [Deno.execPath(), "task", "-q", "pf"] },
    ];
    if (!values["no-npx"]) {
      launchers.push({
        name: "`npx -y deno task -q pf`",
        argv: ["npx", "-y", "deno", "task", "-q", "pf"],
      });
    }
    const cases = launchers.flatMap((l) =>
      [["--help"], ["snapshots"]].map((words) => ({
        name: `${l.name} ${words.join(" ")}`,
        argv: [...l.argv, ...words],
        seconds: [] as number[],
      }))
    );
    for (const c of cases) await run(c.argv, env); // warm: compile caches, npm metadata
    for (let round = 0; round < runs; round++) {
      const order = round % 2 ? [...cases].reverse() : cases;
      for (const c of order) c.seconds.push(await run(c.argv, env));
    }
    console.log(`start-up, ${runs} runs each (seconds: median, min, max)`);
    for (const c of cases) {
      const { median, min, max } = summary(c.seconds);
      console.log(
        `${c.name.padEnd(44)} ${median.toFixed(3)}  ${min.toFixed(3)}  ${max.toFixed(3)}`,
      );
    }
    return 0;
  } catch (err) {
    console.error(`startup: ${err instanceof Error ? err.message : err}`);
    return 1;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
