import assert from "node:assert/strict";
import { barChart, lineChart, shareBar } from "./charts.ts";

const months = Array.from({ length: 12 }, (_, i) => ({
  label: `2027-${String(i + 1).padStart(2, "0")}`,
  value: i === 0 ? 2 : 1,
  text: `$${i === 0 ? 2 : 1}.00`,
}));

/** The texts a chart prints as values (point values and axis labels), in order. */
function printedValues(svg: string): string[] {
  return [...svg.matchAll(/class="(?:value|axis-label)">([^<]*)</g)].map((m) => m[1]);
}

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

Deno.test("lineChart() prints a value once where it changes, never again for equal neighbours", () => {
  const svg = lineChart("projection", months).value;
  assert.deepEqual(printedValues(svg), ["0", "$2.00", "$1.00"]);
  // Every point still carries its value in its tooltip.
  assert.equal(svg.match(/<title>[^<]*: \$1\.00<\/title>/g)?.length, 11);
});

Deno.test("lineChart() compares values as printed, and leaves the axis's zero to the axis", () => {
  const usd = (n: number) => `$${n.toFixed(2)}`;
  const data = [0, 0, 1.001, 1.004, 1.2].map((v, i) => ({
    label: `m${i}`,
    value: v,
    text: usd(v),
  }));
  const svg = lineChart("projection", data, usd).value;
  assert.deepEqual(printedValues(svg), ["$0.00", "$1.00", "$1.20"]);
});

Deno.test("lineChart() keeps the first and last values inside the box and raises a crowded one", () => {
  const data = Array.from({ length: 12 }, (_, i) => ({
    label: `m${i}`,
    value: 1000 + i,
    text: `$${(1000 + i).toLocaleString("en-US")}.00`,
  }));
  const svg = lineChart("growth", data).value;
  const texts = [
    ...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)" class="value">/g),
  ];
  assert.equal(texts.length, 12);
  assert.equal(texts[0][3], "start");
  assert.equal(texts[11][3], "end");
  // Labels about as wide as a step apart alternate between two heights.
  const lifts = texts.map((t, i) => Number(t[2]) - Number(texts[i - 1]?.[2] ?? t[2]));
  assert.ok(lifts.slice(1).every((d) => d !== 0), `neighbours at the same height: ${lifts}`);
});

Deno.test("barChart() prints every label whole, bars in proportion, and escapes labels", () => {
  const long = "per-object overhead, 8 KB each at STANDARD rates (first 50 TB), and more words";
  const html = barChart("bill", [
    { label: "<b>cold</b>", value: 4, text: "$4.00" },
    { label: long, value: 1, text: "$1.00" },
  ]).value;
  const widths = [...html.matchAll(/<rect width="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.deepEqual(widths, [100, 25]);
  assert.ok(html.includes(`<span class="label">${long}</span>`));
  assert.ok(!html.includes("…"));
  assert.deepEqual([...html.matchAll(/class="value">([^<]*)</g)].map((m) => m[1]), [
    "$4.00",
    "$1.00",
  ]);
  assert.ok(html.includes("&lt;b&gt;cold&lt;/b&gt;"));
  assert.ok(!html.includes("<b>"));
  assert.match(html, /<figcaption[^>]*>bill<\/figcaption>/);
});

Deno.test("shareBar() splits the bar at the share and gives its numbers as the text alternative", () => {
  const html = shareBar(0.125, { part: "dead", rest: "live" }, "Dead data: 12.5%").value;
  assert.match(html, /role="img" aria-label="Dead data: 12.5%"/);
  assert.match(html, /<rect class="part" width="12.5"/);
  assert.match(html, /<rect class="rest" x="12.5" width="87.5"/);
  assert.match(shareBar(2, { part: "a", rest: "b" }, "x").value, /class="part" width="100"/);
});

Deno.test("charts of nothing or of zeros still render", () => {
  assert.match(barChart("empty", []).value.trim(), /^<figure[^]*<\/figure>$/);
  const svg = lineChart("zeros", [{ label: "a", value: 0, text: "$0" }]).value;
  assert.ok(!svg.includes("NaN"));
  assert.ok(!barChart("zeros", [{ label: "a", value: 0, text: "$0" }]).value.includes("NaN"));
});
