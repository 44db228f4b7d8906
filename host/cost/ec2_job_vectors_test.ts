/**
 * The EC2 job cost vectors (`testdata/ec2_job_vectors.json`): the instance type chosen for a
 * job's size and the lines of its run (`chooseInstance`, `ec2Items`), and a Fargate task's
 * ephemeral storage over 20 GiB (`fargateStorageItems`), priced with the shipped prices of
 * `prices/ec2_jobs.json` for the vector's region.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chooseInstance, ec2Items, ec2Prices, fargateStorageItems } from "./ec2_job.ts";
import file from "./testdata/ec2_job_vectors.json" with { type: "json" };

for (const v of file.vectors) {
  Deno.test(`cost vector: ${v.name}`, () => {
    const prices = ec2Prices(v.region);
    let items;
    if (v.kind === "ec2") {
      const instance = chooseInstance({ vcpu: v.vcpu!, memoryGB: v.memory_gb! }, prices);
      assert.equal(instance.type, v.instance);
      items = ec2Items(instance, v.volume_gib!, v.seconds, prices);
    } else {
      items = fargateStorageItems(v.disk_gib!, v.seconds / 3600, prices);
    }
    assert.deepEqual(
      items.map((i) => ({ what: i.what, quantity: i.quantity, usd: i.usd })),
      v.items,
    );
  });
}

Deno.test("chooseInstance() refuses a job no type of the table holds, naming its size", () => {
  assert.throws(
    () => chooseInstance({ vcpu: 128, memoryGB: 1024 }, ec2Prices("us-east-1")),
    /no EC2 instance type .* has 128 vCPU and 1024 GB/,
  );
  assert.throws(() => ec2Prices("ap-south-1"), /no EC2 prices for region "ap-south-1"/);
});
