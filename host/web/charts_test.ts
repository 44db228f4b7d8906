import assert from "node:assert/strict";
import { barChart, lineChart } from "./charts.ts";

const months = Array.from({ length: 12 }, (_, i) => ({
  label: `2027-${String(i + 1).padStart(2, "0")}`,
  value: i === 0 ? 2 : 1,
  text: `$${i === 0 ? 2 : 1}.00`,
}));

Deno.test("lineChart() draws one point per value, each with its label and value", () => {
  const svg = lineChart("projection", months).value;
  assert.equal(svg.match(/<g class="point"/g)?.length, 12);
  assert.equal(svg.match(/<circle /g)?.length, 12);
  for (const m of months) assert.ok(svg.includes(`>${m.label}</text>`), m.label);
  assert.deepEqual(
    [...svg.matchAll(/data-value="([^"]*)"/g)].map((m) => Number(m[1])),
    months.map((m) => m.value),
  );
  // The path visits the points left to right; the largest value is at the top of the plot.
  const path = /<path class="series" d="([^"]+)"/.exec(svg)![1].split(" ");
  assert.equal(path.length, 12);
  assert.ok(path[0].startsWith("M") && path.slice(1).every((p) => p.startsWith("L")));
  const ys = path.map((p) => Number(p.split(",")[1]));
  assert.ok(ys[0] < ys[1], "2 is drawn higher than 1");
});

Deno.test("lineChart() prints a value where it changes and at the end, not over equal neighbours", () => {
  const svg = lineChart("projection", months).value;
  assert.equal(svg.match(/class="value">\$2\.00</g)?.length, 1);
  // Month 2 (a change) and month 12 (the last) carry the $1.00 label.
  assert.equal(svg.match(/class="value">\$1\.00</g)?.length, 2);
  assert.equal(svg.match(/<title>[^<]*: \$1\.00<\/title>/g)?.length, 11);
});

Deno.test("barChart() draws bars in proportion to the largest value and escapes labels", () => {
  const svg = barChart("bill", [
    { label: "<b>cold</b>", value: 4, text: "$4.00" },
    { label: "hot", value: 1, text: "$1.00" },
  ]).value;
  const widths = [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(widths.length, 2);
  assert.equal(widths[0] / widths[1], 4);
  assert.ok(svg.includes("&lt;b&gt;cold&lt;/b&gt;"));
  assert.ok(!svg.includes("<b>"));
});

Deno.test("charts of nothing or of zeros still render", () => {
  assert.match(barChart("empty", []).value.trim(), /^<svg[^]*<\/svg>$/);
  const svg = lineChart("zeros", [{ label: "a", value: 0, text: "$0" }]).value;
  assert.ok(!svg.includes("NaN"));
});
