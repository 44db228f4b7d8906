import assert from "node:assert/strict";
import { checkConfig } from "./s3_config.ts";

const config = {
  bucket: "pf-bucket",
  keyPrefix: "",
  region: "us-east-1",
  endpoint: "http://127.0.0.1:9",
  pathStyle: true,
};

Deno.test("checkConfig() fills in the retry policy and the default upload rule", () => {
  assert.deepEqual(checkConfig({ ...config, keyPrefix: "a/b/", retry: { attempts: 2 } }), {
    ...config,
    keyPrefix: "a/b/",
    retry: { attempts: 2, baseMs: 100, maxMs: 20_000 },
    multipartThreshold: 96 << 20,
    partSize: 96 << 20,
    partConcurrency: 4,
  });
});

Deno.test("checkConfig() refuses a config it does not understand, naming the field", () => {
  const cases: [unknown, RegExp][] = [
    [undefined, /needs a config object/],
    [{}, /"bucket" must be a string/],
    [{ ...config, bucket: 1 }, /"bucket" must be a string/],
    [{ ...config, keyPrefix: "no-slash" }, /"keyPrefix" must be "" or end with "\/"/],
    [{ ...config, pathStyle: "yes" }, /"pathStyle" must be true or false/],
    [{ ...config, partSize: 1024 }, /"partSize" must be a whole number of at least 5242880/],
    [{ ...config, partSize: 6 * 2 ** 30 }, /"partSize" must be at most 5368709120 \(S3's limit\)/],
    [{ ...config, multipartThreshold: 6 * 2 ** 30 }, /"multipartThreshold" must be at most/],
    [{ ...config, retry: { attempts: 0 } }, /"retry.attempts" must be a whole number/],
    [{ ...config, accessKeyId: "AKIA" }, /has no option "accessKeyId"/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(() => checkConfig(bad), TypeError, JSON.stringify(bad));
    assert.throws(() => checkConfig(bad), message, JSON.stringify(bad));
  }
});
