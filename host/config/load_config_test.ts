import assert from "node:assert/strict";
import { join } from "node:path";
import { InvalidRequest } from "../workflows/invalid_request.ts";
import { ConfigError } from "./config_error.ts";
import { type Config, loadConfig, parseConfig, pickSources } from "./load_config.ts";

const env = { HOME: "/home/ana" };
const engines = ["dedup", "worm", "sync"];
const FILE = "permafrost.toml";

function parsed(text: string): Config {
  return parseConfig(text, FILE, { env, engines });
}

/** The ConfigError `text` gives: its line and message. */
function mistake(text: string): { line: number | undefined; message: string } {
  try {
    parsed(text);
  } catch (err) {
    if (err instanceof ConfigError) return { line: err.line, message: err.message };
    throw err;
  }
  assert.fail(`no error for:\n${text}`);
}

Deno.test("parseConfig() reads the complete example of docs/config.md", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/config.md", import.meta.url));
  const example = /```toml\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(example, "docs/config.md has a toml example");
  const config = parseConfig(example, "/home/ana/.config/permafrost/permafrost.toml", {
    env,
    engines,
  });
  assert.equal(config.repository, "s3://example-backups/laptop");
  const [photos, home, site] = config.sources;
  assert.equal(config.sources.length, 3);
  assert.deepEqual(
    { ...photos, line: undefined, fieldLines: undefined },
    {
      name: "photos",
      paths: ["/home/ana/Pictures", "/mnt/archive/scans"],
      engine: "worm",
      exclude: ["*.xmp~", ".thumbnails/"],
      excludeFile: undefined,
      excludeIfPresent: [".nobackup"],
      excludeLargerThan: undefined,
      gitIgnore: false,
      neverChange: ["**/*.jpg", "**/*.cr2", "**/*.tif"],
      tags: ["photos", "weekly"],
      engineConfig: {},
      line: undefined,
      fieldLines: undefined,
    },
  );
  assert.equal(home.name, "home");
  assert.deepEqual(home.paths, ["/home/ana"]);
  assert.equal(home.engine, "dedup");
  assert.equal(home.gitIgnore, true);
  assert.equal(home.excludeFile, "/home/ana/.config/permafrost/home.exclude");
  assert.deepEqual(home.excludeIfPresent, ["CACHEDIR.TAG"]);
  assert.equal(home.excludeLargerThan, 2 * 2 ** 30);
  assert.equal(site.engine, "sync");
  assert.deepEqual(JSON.parse(JSON.stringify(site.engineConfig)), {
    encrypt: false,
    storage_class: [{ larger_than: "1 MiB", class: "DEEP_ARCHIVE" }, { class: "STANDARD" }],
  });
  // The lines of the example's headers and fields, for later messages about a source.
  const lines = example.split("\n");
  assert.match(lines[site.line - 1], /^\[\[source\]\]/);
  assert.match(lines[site.fieldLines.engine! - 1], /^engine = "sync"/);
});

Deno.test("parseConfig() fills in every default of a source that gives only a name and paths", () => {
  const config = parsed(`[[source]]\nname = "docs"\npaths = ["/srv/docs"]\n`);
  assert.deepEqual(config, {
    file: FILE,
    sources: [{
      name: "docs",
      paths: ["/srv/docs"],
      engine: "dedup",
      exclude: [],
      excludeFile: undefined,
      excludeIfPresent: [],
      excludeLargerThan: undefined,
      gitIgnore: false,
      neverChange: [],
      tags: [],
      engineConfig: {},
      line: 1,
      fieldLines: { name: 2, paths: 3 },
    }],
  });
  assert.deepEqual(parsed("# nothing yet\n"), { file: FILE, sources: [] });
});

Deno.test("parseConfig() reads sizes as bytes and paths of the home folder", () => {
  const [source] = parsed(
    `[[source]]\nname = "a"\npaths = ["~", "~/x"]\nexclude_larger_than = 4096\n` +
      `exclude_file = "~/a.exclude"\n`,
  ).sources;
  assert.deepEqual(source.paths, ["/home/ana", "/home/ana/x"]);
  assert.equal(source.excludeLargerThan, 4096);
  assert.equal(source.excludeFile, "/home/ana/a.exclude");
  assert.equal(parsed(`repository = "~/repo"`).repository, "/home/ana/repo");
  assert.equal(parsed(`repository = "sqlite:backups.db"`).repository, "sqlite:backups.db");
});

const source = (body: string) => `# my sources\n\n[[source]]\nname = "photos"\n${body}`;

const mistakes: [string, string, number, string][] = [
  [
    "a syntax error",
    `repository = "/r"\n\n[[source]]\nname = "a" "b"\n`,
    4,
    "not valid TOML: ",
  ],
  [
    "a key given twice",
    source(`paths = ["/p"]\npaths = ["/q"]\n`),
    6,
    "not valid TOML: trying to redefine an already defined table or value (column 1)",
  ],
  [
    "an unknown key at the top, suggesting the known one",
    `repository = "/r"\nsources = []\n`,
    2,
    `unknown key "sources"; did you mean "source"?`,
  ],
  [
    "an unknown key in a source, suggesting the known one",
    source(`paths = ["/p"]\nexlude = ["*.tmp"]\n`),
    6,
    `source "photos": unknown key "exlude"; did you mean "exclude"?`,
  ],
  [
    "a field of the wrong type",
    source(`paths = ["/p"]\n\nengine = ["worm"]\n`),
    7,
    `source "photos": engine must be a string, not a list`,
  ],
  [
    "a boolean given as a string",
    source(`paths = ["/p"]\ngit_ignore = "yes"\n`),
    6,
    `source "photos": git_ignore must be true or false, not a string`,
  ],
  [
    "a tag that is not a string, at its own line",
    source(`paths = ["/p"]\ntags = [\n  "a",\n  2025,\n]\n`),
    8,
    `source "photos": tags must be a list of strings; item 2 is a number`,
  ],
  [
    "an engine_config that is not a table",
    source(`paths = ["/p"]\nengine_config = "fast"\n`),
    6,
    `source "photos": engine_config must be a table, not a string`,
  ],
  [
    "a name used twice",
    `[[source]]\nname = "a"\npaths = ["/p"]\n\n[[source]]\nname = "b"\npaths = ["/q"]\n\n` +
    `[[source]]\npaths = ["/r"]\nname = "a"\n`,
    11,
    `source "a" is named twice (first on line 2)`,
  ],
  [
    "a source without a name, by its place, at its header",
    `[[source]]\nname = "a"\npaths = ["/p"]\n\n[[source]]\npaths = ["/q"]\n`,
    5,
    `source #2: has no name; give it one: name = "photos"`,
  ],
  [
    "a name with capitals",
    `[[source]]\npaths = ["/q"]\nname = "Photos"\n`,
    3,
    `source #1: name "Photos" must be 1 to 64 of a-z, 0-9, ".", "_" and "-", starting with a ` +
    `letter or digit`,
  ],
  [
    "a relative path, at its own line",
    source(`paths = [\n  "/ok",\n  "Pictures",\n]\n`),
    7,
    `source "photos": path "Pictures" is not absolute; write it from "/" or "~/"`,
  ],
  [
    "a path listed twice",
    source(`paths = ["/home/ana/x", "~/x"]\n`),
    5,
    `source "photos": path "~/x" is listed twice`,
  ],
  [
    "two paths of the same base name, which a backup cannot name apart in its snapshot",
    source(`paths = ["/home/ana/data", "/mnt/disk/data"]\n`),
    5,
    `source "photos": paths "/home/ana/data" and "/mnt/disk/data" have the same name "data", ` +
    `which a snapshot cannot hold twice; put one in a source of its own`,
  ],
  [
    "a ~user path",
    source(`paths = ["~bob/x"]\n`),
    5,
    `source "photos": paths: "~bob/x": only "~/" is expanded, not "~user/"; write the full path`,
  ],
  [
    "empty paths",
    source(`paths = []\n`),
    5,
    `source "photos": paths is empty; list at least one path`,
  ],
  [
    "missing paths, at the source's header",
    source(`tags = ["x"]\n`),
    3,
    `source "photos": has no paths; list what it backs up: paths = ["~/Pictures"]`,
  ],
  [
    "an empty string in a list",
    source(`paths = ["/p"]\nexclude = ["*.tmp", ""]\n`),
    6,
    `source "photos": exclude: item 2 is empty`,
  ],
  [
    "a bad size",
    source(`paths = ["/p"]\nexclude_larger_than = "2 gigs"\n`),
    6,
    `source "photos": exclude_larger_than: size "2 gigs" is not a number with an optional unit ` +
    `(KiB, MiB, GiB, TiB, KB, MB, GB, TB)`,
  ],
  [
    "a negative size",
    source(`paths = ["/p"]\nexclude_larger_than = -1\n`),
    6,
    `source "photos": exclude_larger_than must be a size such as "2 GiB" or a number of bytes`,
  ],
  [
    "a path as a file name to look for",
    source(`paths = ["/p"]\nexclude_if_present = ["a/CACHEDIR.TAG"]\n`),
    6,
    `source "photos": exclude_if_present: "a/CACHEDIR.TAG" is not a file name (a name has no "/")`,
  ],
  [
    "an engine not installed, suggesting the one meant",
    source(`paths = ["/p"]\nengine = "wrom"\n`),
    6,
    `source "photos": engine "wrom" is not installed (engines: "dedup", "worm", "sync"); did you ` +
    `mean "worm"?`,
  ],
  [
    "a single [source] table",
    `[source]\nname = "a"\n`,
    1,
    "source must be a list of tables: write each source as [[source]]",
  ],
  [
    "a relative repository",
    `repository = "backups/repo"\n`,
    1,
    `repository "backups/repo" is a relative path; write it from "/" or "~/", or give a ` +
    `location such as s3://BUCKET/PREFIX`,
  ],
  [
    "a key that could reach an object's prototype",
    source(`paths = ["/p"]\n[source.engine_config]\n__proto__ = { polluted = true }\n`),
    7,
    "not valid TOML: document contains an unsafe property (column 1)",
  ],
];

for (const [what, text, line, message] of mistakes) {
  Deno.test(`parseConfig() names the file and line of ${what}`, () => {
    const found = mistake(text);
    assert.equal(found.line, line, found.message);
    assert.ok(
      found.message.startsWith(`${FILE} line ${line}: ${message}`),
      `${found.message}\nis not\n${FILE} line ${line}: ${message}`,
    );
  });
}

Deno.test("parseConfig() gives a syntax error's column, not the parser's code excerpt", () => {
  const { message } = mistake(`[[source]]\nname = "a" "b"\n`);
  assert.equal(
    message,
    `${FILE} line 2: not valid TOML: each key-value declaration must be followed by an end-of-line ` +
      `(column 12)`,
  );
});

async function withFolder(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pf-config-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadConfig() without a default file is no configuration", async () => {
  await withFolder(async (dir) => {
    assert.deepEqual(await loadConfig({ env: { HOME: dir } }), { sources: [] });
    assert.deepEqual(await loadConfig({ env: {} }), { sources: [] });
  });
});

Deno.test("loadConfig() refuses a missing file that --config or PERMAFROST_CONFIG names", async () => {
  await withFolder(async (dir) => {
    const missing = join(dir, "nope.toml");
    await assert.rejects(loadConfig({ config: missing, env: { HOME: dir } }), {
      name: "ConfigError",
      message: `${missing}: no such file (named by --config)`,
    });
    await assert.rejects(loadConfig({ env: { HOME: dir, PERMAFROST_CONFIG: missing } }), {
      name: "ConfigError",
      message: `${missing}: no such file (named by PERMAFROST_CONFIG)`,
    });
  });
});

Deno.test("loadConfig() reads the XDG default file, and resolves exclude_file beside it", async () => {
  await withFolder(async (dir) => {
    const folder = join(dir, "xdg", "permafrost");
    await Deno.mkdir(folder, { recursive: true });
    const file = join(folder, "permafrost.toml");
    await Deno.writeTextFile(
      file,
      `[[source]]\nname = "a"\npaths = ["/p"]\nexclude_file = "a.exclude"\nengine = "sync"\n`,
    );
    const config = await loadConfig({
      env: { HOME: "/nowhere", XDG_CONFIG_HOME: join(dir, "xdg") },
      engines,
    });
    assert.equal(config.file, file);
    assert.equal(config.sources[0].excludeFile, join(folder, "a.exclude"));
    assert.equal(config.sources[0].engine, "sync");
  });
});

Deno.test("loadConfig() refuses a file that is not UTF-8, or is a folder", async () => {
  await withFolder(async (dir) => {
    const file = join(dir, "latin1.toml");
    await Deno.writeFile(file, new Uint8Array([0x61, 0x20, 0x3d, 0x20, 0x22, 0xe9, 0x22, 0x0a]));
    await assert.rejects(loadConfig({ config: file, env }), {
      name: "ConfigError",
      message: `${file}: is not UTF-8 text, as TOML must be`,
    });
    await assert.rejects(loadConfig({ config: dir, env }), {
      name: "ConfigError",
      message: new RegExp(`^${dir}: cannot be read: `),
    });
  });
});

const three = parsed(
  ["photos", "home", "site"]
    .map((name) => `[[source]]\nname = "${name}"\npaths = ["/${name}"]\n`)
    .join("\n"),
);

Deno.test("pickSources() picks every source, or those named, each once in the order named", () => {
  assert.deepEqual(pickSources(three, []).map((s) => s.name), ["photos", "home", "site"]);
  assert.deepEqual(
    pickSources(three, ["site", "photos", "site"]).map((s) => s.name),
    ["site", "photos"],
  );
});

Deno.test("pickSources() refuses a name not configured, listing those that are", () => {
  assert.throws(() => pickSources(three, ["home", "photo"]), {
    name: "InvalidRequest",
    message: `no source is named "photo" in ${FILE} (sources: "photos", "home", "site"); ` +
      `did you mean "photos"?`,
  });
  assert.throws(
    () => pickSources({ sources: [] }, ["home"]),
    (err) => err instanceof InvalidRequest && /there is no configuration file/.test(err.message),
  );
  assert.throws(() => pickSources(parsed(""), ["home"]), {
    message: `source "home" is not configured: ${FILE} has no [[source]] table`,
  });
});
