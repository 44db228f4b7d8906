import assert from "node:assert/strict";
import { parseS3Location } from "./s3_location.ts";

const noEnv = () => undefined;
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("parseS3Location() without options: us-east-1, AWS's endpoint, virtual-hosted", () => {
  assert.deepEqual(parseS3Location("s3://my-bucket/laptop/home", noEnv), {
    bucket: "my-bucket",
    prefix: "laptop/home",
    keyPrefix: "laptop/home/",
    partition: "aws",
    region: "us-east-1",
    endpoint: "https://s3.us-east-1.amazonaws.com",
    pathStyle: false,
    netHost: "my-bucket.s3.us-east-1.amazonaws.com:443",
  });
  const root = parseS3Location("s3://my-bucket", noEnv);
  assert.equal(root.keyPrefix, "");
  assert.equal(parseS3Location("s3://my-bucket/", noEnv).keyPrefix, "");
});

Deno.test("parseS3Location() takes region and endpoint from options, then the SDK's env vars", () => {
  const env = envOf({
    AWS_REGION: "eu-west-1",
    AWS_DEFAULT_REGION: "us-west-2",
    AWS_ENDPOINT_URL: "http://127.0.0.1:4000",
    AWS_ENDPOINT_URL_S3: "http://127.0.0.1:5000",
  });
  const t = parseS3Location("s3://b-1/p", env);
  assert.equal(t.region, "eu-west-1");
  assert.equal(t.endpoint, "http://127.0.0.1:5000");
  assert.equal(t.netHost, "127.0.0.1:5000");
  assert.equal(
    parseS3Location("s3://b-1/p", envOf({ AWS_DEFAULT_REGION: "us-west-2" })).region,
    "us-west-2",
  );
  assert.equal(
    parseS3Location("s3://b-1/p", envOf({ AWS_ENDPOINT_URL: "http://127.0.0.1:4000" })).endpoint,
    "http://127.0.0.1:4000",
  );
  const o = parseS3Location(
    "s3://b-1/p?region=ap-south-1&endpoint=https://minio.example:9000&profile=admin",
    env,
  );
  assert.equal(o.region, "ap-south-1");
  assert.equal(o.endpoint, "https://minio.example:9000");
  assert.equal(o.profile, "admin");
  assert.equal(o.netHost, "b-1.minio.example:9000");
});

Deno.test("parseS3Location() uses path-style for IP and localhost endpoints and dotted buckets", () => {
  for (const endpoint of ["http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000"]) {
    const t = parseS3Location(`s3://bucket-a/x?endpoint=${endpoint}`, noEnv);
    assert.equal(t.pathStyle, true, endpoint);
    assert.equal(t.netHost, new URL(endpoint).host, endpoint);
  }
  const dotted = parseS3Location("s3://my.bucket/x", noEnv);
  assert.equal(dotted.pathStyle, true);
  assert.equal(dotted.netHost, "s3.us-east-1.amazonaws.com:443");
  const forced = parseS3Location("s3://bucket-a?path-style=true&region=cn-north-1", noEnv);
  assert.equal(forced.netHost, "s3.cn-north-1.amazonaws.com.cn:443");
  assert.equal(forced.partition, "aws-cn");
  assert.equal(
    parseS3Location("s3://bucket-a?endpoint=http://127.0.0.1:1&path-style=false", noEnv).netHost,
    "bucket-a.127.0.0.1:1",
  );
});

Deno.test("parseS3Location() rejects malformed locations, saying what to change", () => {
  const cases: [string, RegExp][] = [
    ["s3:bucket", /is not s3:\/\/BUCKET\/PREFIX/],
    ["s3://Bucket/x", /bucket name "Bucket"/],
    ["s3://ab", /3 to 63 characters/],
    ["s3://bucket-a/a//b", /empty part/],
    ["s3://bucket-a?regoin=eu-west-1", /unknown option "regoin"/],
    ["s3://bucket-a?region=a&region=b", /option "region" twice/],
    ["s3://bucket-a?region=Europe", /region "Europe" is not an AWS region/],
    ["s3://bucket-a?endpoint=ftp://host", /must be http\(s\):\/\/HOST\[:PORT\]/],
    ["s3://bucket-a?endpoint=nonsense", /is not a URL/],
    ["s3://bucket-a?path-style=yes", /"path-style" must be true or false/],
  ];
  for (const [location, message] of cases) {
    assert.throws(() => parseS3Location(location, noEnv), TypeError, location);
    assert.throws(() => parseS3Location(location, noEnv), message, location);
  }
});
