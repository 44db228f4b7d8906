import assert from "node:assert/strict";
import { CapabilityRefused } from "../../plugins/sdk/errors.ts";
import { newRepo, PASSWORD, reopen } from "../../test/helpers.ts";
import { executeForget, planForget } from "./forget.ts";

Deno.test("forget refuses storage credentials without delete before listing anything", async () => {
  const { dir, repo } = await newRepo();
  await repo.storage.close();
  const reader = await reopen(dir, { passphrase: PASSWORD }, "reader");
  let listed = 0;
  const list = reader.storage.list.bind(reader.storage);
  reader.storage.list = (prefix) => (listed++, list(prefix));
  try {
    await assert.rejects(
      planForget(reader, { last: 1 }),
      (err) =>
        err instanceof CapabilityRefused && /the reader role may not delete/.test(err.message),
    );
    await assert.rejects(
      executeForget(reader, { keep: [], forget: [] }),
      CapabilityRefused,
    );
    assert.equal(listed, 0);
  } finally {
    await reader.storage.close();
  }
});
