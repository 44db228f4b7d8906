/**
 * `plugin add PATH`, `plugin list`, `plugin remove NAME`, `plugin verify [NAME]`
 * (docs/plugins.md §7.5, docs/cli/plugin.txt): the CLI side of `host/plugin/install.ts`. `add`
 * shows what the plugin asks for and installs it only once the user said yes at a terminal,
 * or with `--yes`; without a terminal and without `--yes` it refuses and installs nothing.
 *
 * @module
 */

import { asksText } from "../plugin/describe_asks.ts";
import {
  type AddPlan,
  commitAdd,
  planAdd,
  removePlugin,
  verifyPlugins,
} from "../plugin/install.ts";
import { pluginsFolder, readLock } from "../plugin/plugin_lock.ts";
import { NotConfirmed, readLine } from "./confirm.ts";
import { type Context, jsonOption, UsageError } from "./context.ts";
import { type CommandGroup, refuseExtraArguments } from "./options.ts";

/** The four `plugin` commands, each with the options it takes. */
export const pluginCommands: CommandGroup = {
  subcommands: {
    add: { options: { ...jsonOption, yes: { type: "boolean", short: "y" } }, run: pluginAdd },
    list: { options: { ...jsonOption }, run: pluginList },
    remove: { options: { ...jsonOption }, run: pluginRemove },
    verify: { options: { ...jsonOption }, run: pluginVerify },
  },
  refuse: (sub) =>
    new UsageError(
      `${sub === undefined ? "plugin needs a command" : `unknown plugin command "${sub}"`}: ` +
        `use "plugin add PATH", "plugin list", "plugin remove NAME" or "plugin verify [NAME]"`,
    ),
};

/** The folder of installed plugins (PERMAFROST_PLUGINS_DIR, else the config folder's). */
function folder(): string {
  const found = pluginsFolder(Deno.env.toObject());
  if (found === undefined) {
    throw new UsageError(
      "there is no folder for plugins: set PERMAFROST_PLUGINS_DIR, XDG_CONFIG_HOME or HOME",
    );
  }
  return found;
}

function summary(plan: AddPlan): string {
  const m = plan.manifest;
  const lines = [
    `${m.kind} plugin "${m.name}"${m.description ? `: ${m.description}` : ""}`,
    `bundle SHA-256 ${plan.bundleSha256} (${plan.bundle.length} bytes)`,
    "It asks to:",
    asksText(plan.asks),
  ];
  if (plan.previous) {
    lines.push(
      plan.more.length === 0
        ? `It replaces the installed version and asks for nothing more.`
        : `It replaces the installed version and asks for MORE than it was granted: ` +
          plan.more.join(", "),
    );
  }
  return lines.join("\n");
}

async function pluginAdd(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 1);
  const path = ctx.positionals[0];
  if (!path) throw new UsageError("plugin add needs a PATH: a plugin folder or a .tar.gz of one");
  const into = folder();
  const plan = await planAdd(path, into);
  const { kind, name } = plan.manifest;
  if (!ctx.bool("yes")) {
    if (!Deno.stdin.isTerminal()) {
      console.error(summary(plan));
      throw new UsageError(
        `plugin "${name}" was not installed: read what it asks for above, then run ` +
          `"permafrost plugin add ${path} --yes" to install it`,
      );
    }
    console.error(summary(plan));
    const answer = await readLine(
      `Install ${kind} plugin "${name}" with these permissions? [y/N] `,
    );
    if (!/^y(es)?$/i.test(answer.trim())) {
      throw new NotConfirmed(`not confirmed; plugin "${name}" was not installed`);
    }
  }
  const entry = await commitAdd(plan, into);
  ctx.print(
    { ...entry, asks: plan.asks },
    () =>
      (ctx.bool("yes") ? summary(plan) + "\n" : "") +
      `installed ${kind} plugin "${name}" (bundle SHA-256 ${entry.bundleSha256.slice(0, 16)}…); ` +
      `use it with ${kind === "engine" ? `--engine ${name}` : `--filter ${name}`}`,
  );
  return 0;
}

function pluginList(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 0);
  const entries = Object.values(readLock(folder()).plugins);
  ctx.print(
    entries,
    () =>
      entries.length === 0
        ? "no plugins installed (add one with `permafrost plugin add PATH`)"
        : entries.map((e) =>
          `${e.kind}/${e.name}  ${e.bundleSha256.slice(0, 16)}…  from ${e.source}  ` +
          `(installed ${e.installedAt})`
        ).join("\n"),
  );
  return Promise.resolve(0);
}

async function pluginRemove(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 1);
  const name = ctx.positionals[0];
  if (!name) throw new UsageError("plugin remove needs the NAME of an installed plugin");
  const entry = await removePlugin(folder(), name);
  ctx.print(entry, () => `removed ${entry.kind} plugin "${entry.name}"`);
  return 0;
}

/** Exit status 1 when a file differs from its pin. */
async function pluginVerify(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 1);
  const results = await verifyPlugins(folder(), ctx.positionals[0]);
  const bad = results.filter((r) => r.problems.length > 0);
  ctx.print(
    results.map((r) => ({ kind: r.entry.kind, name: r.entry.name, problems: r.problems })),
    () =>
      results.length === 0
        ? "no plugins installed"
        : results.map((r) =>
          r.problems.length === 0
            ? `${r.entry.kind}/${r.entry.name}: ok, the pinned bundle and manifest`
            : `${r.entry.kind}/${r.entry.name}: CHANGED since it was installed; ` +
              `${r.problems.join("; ")}; add it again from its source or remove it`
        ).join("\n"),
  );
  return bad.length > 0 ? 1 : 0;
}
