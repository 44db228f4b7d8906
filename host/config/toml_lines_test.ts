import assert from "node:assert/strict";
import { parse, stringify } from "smol-toml";
import { TomlLines, type TomlPath } from "./toml_lines.ts";

const text = `# a comment = not a key
repository = "s3://bucket/prefix" # trailing = comment

[[source]]
name = "photos"
paths = [
  "/a", # first
  '/b',
  """/c""",
]
note = """
fake = "not a key"
[[source]]
"""
literal = '''
also = 'not a key' '''

[source.engine_config]
rules.deep = { class = "DEEP_ARCHIVE",
  over = 1 }

[[source.engine_config.rule]]
class = "A"

[[source]]
"quoted key" = 1
'dotted.literal' = 2
a . b = 3
list = [[1, 2], [
  3]]

[[source.engine_config.rule]]
class = "B"
`;

Deno.test("TomlLines gives the line of keys, headers and list elements, past strings and comments", () => {
  const lines = TomlLines.scan(text);
  const cases: [TomlPath, number][] = [
    [["repository"], 2],
    [["source"], 4],
    [["source", 0], 4],
    [["source", 0, "name"], 5],
    [["source", 0, "paths"], 6],
    [["source", 0, "paths", 0], 7],
    [["source", 0, "paths", 1], 8],
    [["source", 0, "paths", 2], 9],
    [["source", 0, "note"], 11],
    [["source", 0, "literal"], 15],
    [["source", 0, "engine_config"], 18],
    [["source", 0, "engine_config", "rules", "deep"], 19],
    [["source", 0, "engine_config", "rules", "deep", "over"], 20],
    [["source", 0, "engine_config", "rule", 0], 22],
    [["source", 0, "engine_config", "rule", 0, "class"], 23],
    [["source", 1], 25],
    [["source", 1, "quoted key"], 26],
    [["source", 1, "dotted.literal"], 27],
    [["source", 1, "a", "b"], 28],
    [["source", 1, "list", 1, 0], 30],
    [["source", 1, "engine_config", "rule", 0], 32],
    [["source", 1, "engine_config", "rule", 0, "class"], 33],
  ];
  for (const [path, line] of cases) assert.equal(lines.lineOf(path), line, JSON.stringify(path));
  // What the strings hold is not a key.
  assert.equal(parse(text).fake, undefined);
  assert.equal(lines.lineOf(["fake"]), undefined);
  assert.equal(lines.lineOf(["source", 2]), 4, "an element not in the text: its array's line");
});

Deno.test("TomlLines falls back to the nearest ancestor for a key the text leaves out", () => {
  const lines = TomlLines.scan(`\n[[source]]\nname = "a"\n`);
  assert.equal(lines.lineOf(["source", 0, "paths"]), 2);
  assert.equal(lines.lineOf(["source", 0, "paths", 3]), 2);
  assert.equal(lines.lineOf([]), undefined);
});

Deno.test("TomlLines counts CRLF line ends and skips a byte order mark", () => {
  const lines = TomlLines.scan(`\uFEFFa = 1\r\n\r\n[t]\r\nb = "x"\r\n`);
  assert.equal(lines.lineOf(["a"]), 1);
  assert.equal(lines.lineOf(["t"]), 3);
  assert.equal(lines.lineOf(["t", "b"]), 4);
});

Deno.test("TomlLines ends on text that does not parse", () => {
  for (const bad of ["[[", "a = [", 'a = """', "a = {", "= = =", "[a.", "a.b.", "\\"]) {
    TomlLines.scan(bad).lineOf(["a"]);
  }
});

/** A PRNG with a seed, so that a failure can be replayed (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A random document whose keys are all different, so each can be found in its line. */
function randomDocument(next: () => number): Record<string, unknown> {
  let n = 0;
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)];
  const key = () => pick([`k${n++}x`, `q ${n++}x`, `d.${n++}x`, `e=${n++}x`]);
  const scalar = () =>
    pick<unknown>([
      "plain",
      'quote " = # [x]',
      "line\nbreak = 1\n[[source]]",
      "'''",
      42,
      -1.5,
      true,
      new Date("2025-01-02T03:04:05Z"),
    ]);
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 2 || r < 0.5) return scalar();
    if (r < 0.65) return [scalar(), scalar()];
    if (r < 0.8) return table(depth + 1);
    return [table(depth + 1), table(depth + 1)];
  };
  const table = (depth: number): Record<string, unknown> => {
    const t: Record<string, unknown> = {};
    const count = 1 + Math.floor(next() * 4);
    for (let i = 0; i < count; i++) t[key()] = value(depth);
    return t;
  };
  return table(0);
}

/** Every key path of `value`, each with the key it ends with. */
function* keyPaths(value: unknown, path: TomlPath = []): Generator<[TomlPath, string]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* keyPaths(item, [...path, i]);
  } else if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) {
      yield [[...path, k], k];
      yield* keyPaths(v, [...path, k]);
    }
  }
}

Deno.test("TomlLines finds every key of 300 random documents on the line that writes it", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const toml = stringify(randomDocument(random(seed)));
    const textLines = toml.split("\n");
    const lines = TomlLines.scan(toml);
    for (const [path, key] of keyPaths(parse(toml))) {
      const line = lines.lineOf(path);
      const written = textLines[(line ?? 0) - 1] ?? "";
      const bare = new RegExp(`(^|[\\s.\\[{])${key}\\s*(=|\\.|\\])`);
      assert.ok(
        written.includes(JSON.stringify(key)) || bare.test(written),
        `seed ${seed}: ${JSON.stringify(path)} is on line ${line} ("${written}")\n${toml}`,
      );
    }
  }
});
