import assert from "node:assert/strict";
import { startEngine } from "../engine_test_support.ts";
import { classFor, syncOptions } from "./options.ts";

Deno.test("the sync engine's class rules: the first that matches wins, sizes as the config writes them, STANDARD when none does", () => {
  const { classes } = syncOptions({
    storage_class: [
      { larger_than: "1 MiB", class: "DEEP_ARCHIVE" },
      { larger_than: 1000, class: "STANDARD_IA" },
    ],
  });
  assert.deepEqual(classes, [
    { largerThan: 1 << 20, class: "DEEP_ARCHIVE" },
    { largerThan: 1000, class: "STANDARD_IA" },
  ]);
  assert.equal(classFor(classes, (1 << 20) + 1), "DEEP_ARCHIVE");
  assert.equal(classFor(classes, 1 << 20), "STANDARD_IA");
  assert.equal(classFor(classes, 1000), "STANDARD");
  assert.equal(
    classFor(syncOptions({ storage_class: [{ class: "GLACIER" }] }).classes, 0),
    "GLACIER",
  );
  assert.deepEqual(syncOptions({ versioned: false }), {
    classes: [],
    versioned: false,
    encrypt: false,
  });
  assert.equal(syncOptions({ encrypt: true }).encrypt, true);
});

Deno.test("the sync engine refuses at start-up an unknown key, a bad rule, a bad size and a bad encrypt, naming each", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { part: 1 },
      /engine "sync" takes only "storage_class", "versioned", "encrypt": unknown key "part"/,
    ],
    [{ storage_class: [{ class: "COLD" }] }, /rule 1: "COLD" is not a storage class/],
    [{ storage_class: [{ class: "GLACIER", over: 1 }] }, /rule 1 has an unknown key "over"/],
    [
      { storage_class: [{ larger_than: "big", class: "GLACIER" }] },
      /"larger_than" "big" is not a size/,
    ],
    [{ storage_class: { class: "GLACIER" } }, /must be a list/],
    [{ versioned: "yes" }, /"versioned" must be true or false/],
    [{ encrypt: "yes" }, /"encrypt" must be true or false/],
  ];
  for (const [options, expected] of cases) {
    assert.throws(() => syncOptions(options), expected);
  }
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      startEngine("sync", dir, { options: { part: 1 } }),
      /unknown key "part"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the sync engine cannot back up without the host's mirror capability", async () => {
  const dir = await Deno.makeTempDir();
  const h = await startEngine("sync", dir);
  try {
    await assert.rejects(h.call("backup", [dir]), /capability "mirror" was not granted/);
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});
