import assert from "node:assert/strict";
import { Context, UsageError } from "./context.ts";
import { everyCommand, loadCommands } from "./main.ts";
import { closest, editDistance, parseCommandLine, scanCommandLine, unionOf } from "./options.ts";

const table = {
  repo: { type: "string" },
  "dry-run": { type: "boolean" },
  tag: { type: "string", multiple: true },
} as const;

Deno.test("parseCommandLine refuses an option the command does not take, naming both", () => {
  assert.throws(
    () => parseCommandLine("forget", table, ["forget", "--estimate"]),
    (err: unknown) =>
      err instanceof UsageError && err.message === '"forget" does not take --estimate',
  );
  assert.throws(
    () => parseCommandLine("gc index", table, ["gc", "index", "-y"]),
    (err: unknown) => err instanceof UsageError && err.message === '"gc index" does not take -y',
  );
});

Deno.test("parseCommandLine reads the command's options wherever they stand, and --help", () => {
  const { positionals, values } = parseCommandLine(
    "backup",
    table,
    ["--repo", "r", "backup", "a", "--tag", "x", "b", "--tag=y", "--dry-run", "-h"],
  );
  assert.deepEqual(positionals, ["backup", "a", "b"]);
  assert.deepEqual({ ...values }, { repo: "r", tag: ["x", "y"], "dry-run": true, help: true });
});

Deno.test("parseCommandLine makes a missing value or a value given to a flag a usage error", () => {
  for (const argv of [["backup", "--repo"], ["backup", "--dry-run=yes"]]) {
    assert.throws(() => parseCommandLine("backup", table, argv), UsageError);
  }
});

Deno.test("scanCommandLine finds the command after options that take a value", async () => {
  const union = unionOf((await everyCommand()).map((c) => c.command.options));
  assert.deepEqual(
    scanCommandLine(["--repo", "gc", "--frob", "gc", "--keep-last", "1", "index"], union),
    { positionals: ["gc", "index"], help: false, undeclared: true },
  );
});

Deno.test("scanCommandLine says when an option is outside the tables it was given", () => {
  const gc = unionOf([{ "keep-last": { type: "string" } }]);
  assert.equal(scanCommandLine(["gc", "--keep-last", "1", "index", "-h"], gc).undeclared, false);
  assert.equal(scanCommandLine(["--repo", "r", "gc", "index"], gc).undeclared, true);
  assert.equal(scanCommandLine(["gc", "index", "--", "--repo"], gc).undeclared, false);
});

Deno.test("scanCommandLine takes -h or --help standing alone as help, not an h among grouped short options", async () => {
  const union = unionOf((await everyCommand()).map((c) => c.command.options));
  assert.equal(scanCommandLine(["backup", "-h"], union).help, true);
  assert.equal(scanCommandLine(["--help", "gc"], union).help, true);
  assert.equal(scanCommandLine(["backup", "-dash"], union).help, false);
  assert.equal(scanCommandLine(["snapshots", "-hx"], union).help, false);
  assert.equal(scanCommandLine(["backup", "--", "-h"], union).help, false);
});

Deno.test("parseCommandLine refuses grouped short options, saying where an argument starting with - goes", () => {
  assert.throws(
    () => parseCommandLine("backup", table, ["backup", "-dash"]),
    (err: unknown) =>
      err instanceof UsageError &&
      err.message ===
        '"backup" does not take -d (in "-dash"; an argument that starts with "-" goes after "--")',
  );
});

Deno.test("unionOf refuses an option two commands declare two ways", () => {
  assert.throws(
    () => unionOf([table, { tag: { type: "boolean" } }]),
    /--tag is declared two ways/,
  );
});

Deno.test("a command that reads an option its table does not declare fails loudly", () => {
  const ctx = new Context([], { estimate: true }, table);
  assert.equal(ctx.bool("dry-run"), false);
  assert.throws(() => ctx.bool("estimate"), /reads --estimate, which its option table/);
});

/**
 * The options each usage line of `docs/cli/<verb>.txt` names, by command ("gc index"): lines
 * from "Usage:" to the first blank line, each "permafrost <verb> [<sub>]" starting an entry.
 */
function documented(verb: string, subs: string[]): Map<string, Set<string>> {
  const text = Deno.readTextFileSync(new URL(`../../docs/cli/${verb}.txt`, import.meta.url));
  const usage = text.slice(text.indexOf("Usage:")).split("\n\n")[0].split("\n");
  const found = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of usage) {
    const entry = new RegExp(`permafrost ${verb}(?: (\\S+))?`).exec(line);
    if (entry) {
      const name = subs.length > 0 ? `${verb} ${entry[1]}` : verb;
      current = found.get(name) ?? new Set();
      found.set(name, current);
    }
    for (const m of line.matchAll(/--([a-z][a-z-]*)/g)) current!.add(m[1]);
  }
  return found;
}

Deno.test("every command's help lists exactly the options it takes", async () => {
  // Listed once for all in docs/cli/permafrost.txt, "Common options".
  const common = new Set(["repo", "key-file", "config", "help"]);
  const byVerb = Object.groupBy(await everyCommand(), (c) => c.name.split(" ")[0]);
  for (const [verb, list] of Object.entries(byVerb)) {
    const subs = list!.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[1]);
    const docs = documented(verb, subs);
    for (const { name, command } of list!) {
      const takes = Object.keys(command.options).filter((o) => !common.has(o)).sort();
      const listed = [...docs.get(name) ?? []].filter((o) => !common.has(o)).sort();
      assert.deepEqual(listed, takes, `docs/cli/${verb}.txt, usage of "${name}"`);
      for (const o of docs.get(name) ?? []) {
        assert.ok(Object.hasOwn(command.options, o), `"${name}" does not take --${o}`);
      }
    }
  }
});

Deno.test("a group without its subcommand says it needs one, and names them", async () => {
  for (const [verb, c] of Object.entries(await loadCommands())) {
    if (!("subcommands" in c)) continue;
    const message = c.refuse(undefined).message;
    assert.doesNotMatch(message, /""/, `${verb}: ${message}`);
    for (const sub of Object.keys(c.subcommands)) assert.match(message, new RegExp(sub), verb);
  }
});

Deno.test("closest() suggests a near name only: one edit for short words, two for longer", () => {
  assert.equal(closest("bakup", ["backup", "restore", "snapshots"]), "backup");
  assert.equal(closest("dryrun", ["dry-run", "json", "repo"]), "dry-run");
  assert.equal(closest("mrak", ["mark", "compact", "purge", "index"]), "mark");
  assert.equal(closest("jsno", ["json", "repo"]), "json");
  assert.equal(closest("xyz", ["ls", "cat", "find"]), undefined);
  assert.equal(closest("cst", ["cost", "cat"]), undefined, "a tie suggests neither");
  assert.equal(closest("restorex", ["restore", "rebuild"]), "restore");
  assert.equal(closest("zzzzzz", ["backup"]), undefined);
});

Deno.test("editDistance() counts a swap of two neighbours as one edit", () => {
  assert.equal(editDistance("mrak", "mark"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
});
