/**
 * Debian's Chromium, the browser the web view's end-to-end test drives through
 * `playwright-core` (docs/design.md §9): `/usr/bin/chromium`, installed with
 * `apt-get update && apt-get install -y chromium` when it is missing (about a minute; needs
 * root, or sudo without a password). No browser is downloaded by Playwright itself.
 *
 * `deno task test` runs this module first (`deno run -A test/rig/chromium.ts`), so the install
 * happens before the tests and not inside one; `ensureChromium()` installs too when it is
 * missing, so `test/web_test.ts` also runs alone. An exclusive lock on
 * `.cache/chromium.lock` makes parallel test processes wait for one install.
 *
 * The launch options the tests use are here too: headless, `--no-sandbox` (the tests run as
 * root), and the flags that stop Chromium's background connections, which this machine's
 * closed network refuses (/work/.library/env/machines/polyglot.md).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Options for playwright-core's `chromium.launch`. */
export const launchOptions = {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cacheDir = join(root, ".cache");

/** Installs Debian's `chromium` unless {@link CHROMIUM} exists; resolves its path. */
export async function ensureChromium(): Promise<string> {
  if (await exists(CHROMIUM)) return CHROMIUM;
  await Deno.mkdir(cacheDir, { recursive: true });
  const lock = await Deno.open(join(cacheDir, "chromium.lock"), { write: true, create: true });
  try {
    await lock.lock(true);
    if (await exists(CHROMIUM)) return CHROMIUM;
    console.error(`installing Debian's chromium into ${CHROMIUM} (once; about a minute)`);
    const sudo = Deno.uid?.() === 0 ? [] : ["sudo", "-n"];
    await run([...sudo, "apt-get", "update"], "apt-get update");
    await run(
      [...sudo, "apt-get", "install", "-y", "chromium"],
      "apt-get install chromium",
    );
    if (!await exists(CHROMIUM)) {
      throw new Error(`apt-get installed chromium but ${CHROMIUM} is missing`);
    }
    return CHROMIUM;
  } finally {
    lock.close();
  }
}

async function run(argv: string[], what: string): Promise<void> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "piped",
    stderr: "piped",
  }).output().catch((err) => {
    throw new Error(`${what} could not start (${err.message}); install chromium by hand`);
  });
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`${what} failed (the browser test needs root or sudo):\n${text.trim()}`);
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

if (import.meta.main) {
  await ensureChromium();
}
