import assert from "node:assert/strict";
import { estimateBill, projectBill } from "./bill.ts";
import { shippedPriceTable } from "./price_table.ts";

const table = shippedPriceTable("us-east-1");
const GiB = 2 ** 30;

Deno.test("the monthly bill of 1 TiB of DEEP_ARCHIVE packs and 1 GiB of hot metadata", () => {
  const bill = estimateBill(
    [
      ...Array.from({ length: 8192 }, () => ({
        storageClass: "DEEP_ARCHIVE" as const,
        size: 128 * 2 ** 20,
        hot: false,
      })),
      { storageClass: "STANDARD", size: GiB, hot: true },
    ],
    [{ bytes: 10 * GiB, daysLeft: 3 }, { bytes: GiB }],
    table,
  );
  // hot:      1 GB × $0.023                                       = $0.023
  // cold:     1,024 GB × $0.00099                                 = $1.01376
  // overhead: 8,192 × 8 KiB = 0.0625 GB × $0.023 = $0.001438; × 32 KiB = 0.25 GB × $0.00099 = $0.000248
  // restored: 10 GB × 3/30 = 1 GB-month × $0.023                  = $0.023
  assert.deepEqual(bill.estimate.items.map((i) => i.usd), [
    0.023,
    1.01376,
    0.001438,
    0.000248,
    0.023,
  ]);
  assert.equal(bill.estimate.total_usd, 1.061446);
  assert.equal(bill.recurring_usd, 1.038446);
  assert.deepEqual(bill.notes, ["1 restored copy whose expiry is unknown (not priced)"]);

  const p = projectBill(bill, 12, new Date("2026-11-26T00:00:00Z"));
  assert.deepEqual(p.months.slice(0, 3), ["2026-11", "2026-12", "2027-01"]);
  assert.equal(p.usd[0], 1.061446);
  assert.equal(p.usd[11], 1.038446);
  assert.equal(p.cumulative_usd[11], 1.061446 + 11 * 1.038446);
});
