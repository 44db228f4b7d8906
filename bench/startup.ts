/**
 * `deno run --allow-all bench/startup.ts [--runs N] [--no-npx] [--baseline DIR]`: how long a
 * short command takes from start to exit (docs/bench.md "Start-up (issue #16)").
 *
 * Installs this checkout's command with `deno task install` into a temporary root (the user's
 * own install is left alone), makes a fresh local repository with one small snapshot at the
 * default key-derivation cost, then times, after one warm-up run each, N rounds in alternating
 * order: `permafrost --help` and `permafrost snapshots` through the installed command, through
 * `deno task -q pf`, and through `npx -y deno task -q pf` (the README's first run; `--no-npx`
 * leaves it out). `--baseline DIR` installs another checkout's command too (a worktree of the
 * commit before a change, say) and times it in the same rounds, on the same repository.
 * Prints the median, min and max wall time of each, in seconds, and the median CPU time
 * (user + system, which the machine's load affects less) where `/usr/bin/time` exists.
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

/** `/usr/bin/time`, which reports a child's CPU time, where it exists. */
const TIME = (() => {
  try {
    return Deno.statSync("/usr/bin/time").isFile ? "/usr/bin/time" : undefined;
  } catch {
    return undefined;
  }
})();

/** Installs the command of the checkout `dir` with `deno task install`, into `root`. */
async function install(root: string, dir = ROOT): Promise<string> {
  await run([Deno.execPath(), "task", "-q", "install", "--root", root], {}, dir);
  return join(root, "bin", "permafrost");
}

/**
 * Runs `argv` in `cwd`; throws with its stderr when it fails. Returns the wall seconds taken
 * and the CPU seconds (user + system) when `/usr/bin/time` measured them.
 */
async function run(
  argv: string[],
  env: Record<string, string>,
  cwd = ROOT,
): Promise<{ wall: number; cpu?: number }> {
  const timed = TIME ? [TIME, "-f", "cpu %U %S", ...argv] : argv;
  const start = performance.now();
  const out = await new Deno.Command(timed[0], {
    args: timed.slice(1),
    cwd,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - start) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`"${argv.join(" ")}" exited ${out.code}: ${stderr}`);
  const cpu = /^cpu ([\d.]+) ([\d.]+)$/m.exec(stderr);
  return { wall, cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : undefined };
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
      options: {
        runs: { type: "string", default: "7" },
        "no-npx": { type: "boolean" },
        baseline: { type: "string" },
      },
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
      ...(values.baseline
        ? [{
          name: "baseline installed",
          argv: [await install(join(tmp, "baseline"), values.baseline)],
        }]
        : []),
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
        cpu: [] as number[],
      }))
    );
    for (const c of cases) await run(c.argv, env); // warm: compile caches, npm metadata
    for (let round = 0; round < runs; round++) {
      const order = round % 2 ? [...cases].reverse() : cases;
      for (const c of order) {
        const { wall, cpu } = await run(c.argv, env);
        c.seconds.push(wall);
        if (cpu !== undefined) c.cpu.push(cpu);
      }
    }
    console.log(`start-up, ${runs} runs each (seconds: wall median, min, max; CPU median)`);
    for (const c of cases) {
      const { median, min, max } = summary(c.seconds);
      const cpu = c.cpu.length ? summary(c.cpu).median.toFixed(3) : "n/a";
      console.log(
        `${c.name.padEnd(44)} ${median.toFixed(3)}  ${min.toFixed(3)}  ${max.toFixed(3)}  ${cpu}`,
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
