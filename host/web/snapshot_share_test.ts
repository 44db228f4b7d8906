import assert from "node:assert/strict";
import { sharesOf } from "./snapshot_share.ts";

Deno.test("sharesOf() splits a shared blob equally and the shares add up to one", () => {
  const sizes: Record<string, number> = { a: 100, b: 300, c: 600 };
  const shares = sharesOf(
    new Map([["s1", new Set(["a", "b"])], ["s2", new Set(["b", "c"])]]),
    (blob) => sizes[blob],
  );
  assert.deepEqual(shares.get("s1"), { referencedBytes: 400, attributedBytes: 250, share: 0.25 });
  assert.deepEqual(shares.get("s2"), { referencedBytes: 900, attributedBytes: 750, share: 0.75 });
});

Deno.test("sharesOf() gives every snapshot a zero share when there is no data", () => {
  const shares = sharesOf(new Map([["s1", new Set<string>()]]), () => 0);
  assert.deepEqual(shares.get("s1"), { referencedBytes: 0, attributedBytes: 0, share: 0 });
});
