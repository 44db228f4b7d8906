import assert from "node:assert/strict";
import { startPlugin } from "../../../host/plugin/sandbox.ts";

Deno.test("the exclude filter runs with no permissions and answers match()", async () => {
  const h = await startPlugin({
    kind: "filter",
    name: "exclude",
    config: { patterns: ["*.tmp", "cache/", "!keep.tmp"] },
  });
  try {
    assert.deepEqual(h.permissions, {
      read: false,
      write: false,
      net: false,
      env: false,
      sys: false,
      run: false,
      ffi: false,
      import: false,
    });
    const result = await h.call(
      "match",
      ["a.tmp", "keep.tmp", "src/cache", "src/cache/x", "cache"],
      [
        false,
        false,
        true,
        false,
        false,
      ],
    );
    assert.deepEqual(result, [true, false, true, true, false]);
    // The patterns apply alike under every source: the walker's root changes nothing.
    assert.deepEqual(await h.call("match", ["a.tmp", "src/cache"], [false, true], "/any"), [
      true,
      true,
    ]);
  } finally {
    await h.close();
  }
});

Deno.test("the exclude filter refuses to start without a list of patterns", async () => {
  for (const config of [undefined, {}, { patterns: "*.o" }, { patterns: [1] }]) {
    await assert.rejects(startPlugin({ kind: "filter", name: "exclude", config }), TypeError);
  }
});

Deno.test("the exclude filter's match() needs lists of equal length", async () => {
  const h = await startPlugin({ kind: "filter", name: "exclude", config: { patterns: ["x"] } });
  try {
    await assert.rejects(h.call("match", ["a", "b"], [false]), TypeError);
  } finally {
    await h.close();
  }
});
