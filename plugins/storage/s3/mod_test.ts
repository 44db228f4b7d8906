import assert from "node:assert/strict";
import { startPlugin } from "../../../host/plugin/sandbox.ts";

const dir = new URL(".", import.meta.url).pathname;
const config = {
  bucket: "pf-bucket",
  keyPrefix: "",
  region: "us-east-1",
  endpoint: "http://127.0.0.1:9",
  pathStyle: true,
};

Deno.test("the s3 storage plugin refuses to start with a config it does not understand", async () => {
  await assert.rejects(
    startPlugin({
      kind: "storage",
      dir,
      vars: { $endpoint: ["127.0.0.1:9"] },
      config: { ...config, secretAccessKey: "x" },
    }),
    TypeError,
    `storage "s3" has no option "secretAccessKey"`,
  );
});

Deno.test("the s3 storage plugin hands on the host's credentials error without retrying", async () => {
  let asked = 0;
  const h = await startPlugin({
    kind: "storage",
    dir,
    vars: { $endpoint: ["127.0.0.1:9"] },
    config,
    capabilities: {
      credentials: {
        get() {
          asked++;
          throw new Error(`no AWS credentials for bucket "pf-bucket": set AWS_ACCESS_KEY_ID`);
        },
      },
    },
  });
  try {
    await assert.rejects(h.call("stat", "config"), /no AWS credentials for bucket "pf-bucket"/);
    assert.equal(asked, 1);
  } finally {
    await h.close();
  }
});
