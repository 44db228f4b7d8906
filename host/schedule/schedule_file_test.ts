import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSchedules } from "./schedule_file.ts";

const good = {
  name: "nightly",
  every: "daily",
  argv: ["backup", "--json", "/src"],
  cwd: "/",
  repository: "/repo",
  role: "ingest",
  sandbox: { read: ["/src"], write: ["/repo"], net: [], sys: ["hostname"] },
  added: "2026-12-07T00:00:00.000Z",
};

function fileWith(entry: Record<string, unknown>): string {
  const file = join(Deno.makeTempDirSync(), "schedules.json");
  Deno.writeTextFileSync(file, JSON.stringify({ version: 1, schedules: [good, entry] }));
  return file;
}

Deno.test("loadSchedules() of a hand-edited file names the field that is wrong", () => {
  assert.equal(loadSchedules(fileWith({ ...good, name: "other" })).length, 2);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...good, every: 5 }, /schedules\[1\]\.every must be a string/],
    [{ ...good, argv: "backup /src" }, /schedules\[1\]\.argv must be a list of words/],
    [{ ...good, role: "root" }, /schedules\[1\]\.role must be one of ingest/],
    [{ ...good, sandbox: undefined }, /schedules\[1\]\.sandbox\.read must be a list/],
    [
      { ...good, sandbox: { ...good.sandbox, read: ["/src", "/a,/"] } },
      /schedules\[1\]\.sandbox\.read\[1\] must be free of commas/,
    ],
  ];
  for (const [entry, message] of cases) {
    assert.throws(() => loadSchedules(fileWith(entry)), message);
  }
});
