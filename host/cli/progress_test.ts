import assert from "node:assert/strict";
import type { ProgressEvent } from "../ops/progress.ts";
import {
  displayOnFirstEvent,
  ProgressDisplay,
  type ProgressIo,
  progressRecord,
  renderProgress,
} from "./progress.ts";

const MiB = 1 << 20;

function event(over: Partial<ProgressEvent> = {}): ProgressEvent {
  return {
    phase: "backup",
    filesDone: 1234,
    bytesDone: 100 * MiB,
    filesTotal: 5678,
    bytesTotal: 400 * MiB,
    errors: 0,
    elapsedMs: 10_000,
    final: false,
    ...over,
  };
}

/** Columns of a line as a terminal shows it (wide characters two). */
function columns(line: string): number {
  let n = 0;
  for (const c of line) {
    n += /[\u231a\u26a1\u2705\u2b50\u3000-\u9fff\u{1f004}\u{1f197}\u{1f300}-\u{1faff}]/u.test(c)
      ? 2
      : 1;
  }
  return n;
}

Deno.test("renderProgress() shows elapsed time, a bar, percent, files and bytes of their totals, rate, ETA and the current file", () => {
  const line = renderProgress(
    { label: "backup", event: event({ currentPath: "/src/docs/a.txt" }), elapsedMs: 10_000 },
    200,
  );
  assert.equal(
    line,
    "backup 0:10  [#####---------------] 25%  1,234/5,678 files  100.0/400.0 MiB  10.0 MiB/s  " +
      "ETA 0:30  /src/docs/a.txt",
  );
});

Deno.test("renderProgress() says scanning… while a backup does not know its totals yet", () => {
  const line = renderProgress(
    {
      label: "backup",
      event: event({ filesTotal: undefined, bytesTotal: undefined }),
      elapsedMs: 3_000,
    },
    120,
  );
  assert.equal(line, "backup 0:03  1,234 files  100.0 MiB  scanning…  33.3 MiB/s");
});

Deno.test("renderProgress() before any event shows the label and the time at once", () => {
  assert.equal(renderProgress({ label: "restore", elapsedMs: 0 }, 80), "restore 0:00  starting…");
});

Deno.test("renderProgress() counts errors so far, and says 1 error, not 1 errors", () => {
  const one = renderProgress(
    { label: "backup", event: event({ errors: 1 }), elapsedMs: 10_000 },
    200,
  );
  assert.match(one, /ETA 0:30 {2}1 error$/);
  const many = renderProgress(
    { label: "backup", event: event({ errors: 1500 }), elapsedMs: 10_000 },
    200,
  );
  assert.match(many, / {2}1,500 errors$/);
});

Deno.test("renderProgress() keeps the line on one row: the current file is cut from the left, keeping its name", () => {
  const path = `/home/someone/${"very-long-folder-name/".repeat(10)}report.pdf`;
  const at = (width: number) =>
    renderProgress(
      { label: "backup", event: event({ currentPath: path }), elapsedMs: 10_000 },
      width,
    );
  for (let width = 2; width <= 200; width++) {
    assert.ok(columns(at(width)) <= width - 1, `${width}: ${at(width)}`);
  }
  assert.equal(
    at(132),
    "backup 0:10  [#####---------------] 25%  1,234/5,678 files  100.0/400.0 MiB  10.0 MiB/s  " +
      "ETA 0:30  …ery-long-folder-name/report.pdf",
  );
  // On 80 columns the bar and the rate make room for the file's name.
  assert.equal(
    at(80),
    "backup 0:10  25%  1,234/5,678 files  100.0/400.0 MiB  ETA 0:30  …ame/report.pdf",
  );
});

Deno.test("renderProgress() leaves out the bar, then the rate, then the ETA on a narrow terminal", () => {
  const at = (width: number) =>
    renderProgress({ label: "backup", event: event(), elapsedMs: 10_000 }, width);
  assert.equal(
    at(90),
    "backup 0:10  [##--------] 25%  1,234/5,678 files  100.0/400.0 MiB  10.0 MiB/s  ETA 0:30",
  );
  assert.equal(
    at(80),
    "backup 0:10  25%  1,234/5,678 files  100.0/400.0 MiB  10.0 MiB/s  ETA 0:30",
  );
  assert.equal(at(70), "backup 0:10  25%  1,234/5,678 files  100.0/400.0 MiB  ETA 0:30");
  assert.equal(at(60), "backup 0:10  25%  1,234/5,678 files  100.0/400.0 MiB");
  assert.equal(at(40), "backup 0:10  25%  1,234/5,678 files");
  for (let width = 2; width <= 200; width++) {
    assert.ok(columns(at(width)) <= width - 1, `${width}: ${at(width)}`);
  }
});

Deno.test("renderProgress() counts a wide character as two columns, so a Japanese file name cannot wrap the line", () => {
  const line = renderProgress(
    {
      label: "restore",
      event: event({ currentPath: `/r/${"名前".repeat(40)}.txt` }),
      elapsedMs: 10_000,
    },
    100,
  );
  assert.ok(columns(line) <= 99, line);
  assert.match(line, /名前\.txt$/);
});

Deno.test("renderProgress() shows a file name's control characters escaped, never acting on the terminal", () => {
  const line = renderProgress(
    { label: "backup", event: event({ currentPath: "/src/evil\x1b[2Jname\n" }), elapsedMs: 10_000 },
    200,
  );
  assert.ok([...line].every((c) => c.charCodeAt(0) >= 0x20), JSON.stringify(line));
  assert.match(line, /\/src\/evil\\x1b\[2Jname\\n$/);
});

Deno.test("renderProgress() of the final event says 100% and drops the ETA and the file, even when a backup did more than its estimate", () => {
  const line = renderProgress(
    {
      label: "backup",
      event: event({
        filesDone: 10,
        bytesDone: 10 * MiB,
        filesTotal: 10,
        bytesTotal: 10 * MiB,
        currentPath: "/src/last.txt",
        final: true,
      }),
      elapsedMs: 3_723_000,
    },
    200,
  );
  assert.equal(
    line,
    "backup 1:02:03  [####################] 100%  10/10 files  10.0/10.0 MiB  2.8 KiB/s",
  );
  const over = renderProgress(
    { label: "backup", event: event({ filesDone: 7000, bytesDone: 500 * MiB }), elapsedMs: 10_000 },
    200,
  );
  assert.match(over, /\[#{20}\] 100%/);
});

Deno.test("renderProgress() rounds the ETA up: never 0:00 while work is left", () => {
  const line = renderProgress(
    { label: "backup", event: event({ bytesDone: 399 * MiB }), elapsedMs: 10_000 },
    200,
  );
  assert.match(line, /ETA 0:01$/);
});

Deno.test("progressRecord() is the --json progress line: snake_case fields, null while a total is unknown", () => {
  assert.deepEqual(
    progressRecord(event({ filesTotal: undefined, bytesTotal: undefined, errors: 2 }), 1234),
    {
      type: "progress",
      phase: "backup",
      files_done: 1234,
      files_total: null,
      bytes_done: 100 * MiB,
      bytes_total: null,
      errors: 2,
      elapsed_s: 1.2,
      current: null,
      final: false,
    },
  );
});

Deno.test("a --json ProgressDisplay writes nothing before its first event, then one line at the end of the run with the last event", () => {
  const written: string[] = [];
  let now = 0;
  const display = new ProgressDisplay("restore", "json", {
    write: (t) => written.push(t),
    width: () => 80,
    now: () => now,
  });
  now = 500;
  display.update(event({ phase: "restore", filesDone: 3, filesTotal: 3, final: true }));
  display.done();
  display.done(); // once only
  assert.equal(written.length, 1);
  assert.ok(written[0].endsWith("\n"));
  const line = JSON.parse(written[0]);
  assert.deepEqual(
    [line.type, line.phase, line.files_done, line.files_total, line.final, line.elapsed_s],
    ["progress", "restore", 3, 3, true, 0.5],
  );
});

Deno.test("a terminal ProgressDisplay draws at once, prints a warning above its line, and ends the line when done", () => {
  const written: string[] = [];
  const display = new ProgressDisplay("backup", "line", {
    write: (t) => written.push(t),
    width: () => 80,
    now: () => 0,
  });
  assert.deepEqual(written, ["\r\x1b[Kbackup 0:00  starting…"]);
  display.note('warning: "/x" cannot read');
  assert.equal(written[1], '\r\x1b[Kwarning: "/x" cannot read\n');
  assert.equal(written[2], "\r\x1b[Kbackup 0:00  starting…");
  display.done();
  assert.equal(written.at(-1), "\n");
});

Deno.test("renderProgress() stays within width - 1 on a terminal of 20 columns or fewer, and takes an unknown width (0) as 80", () => {
  const view = {
    label: "restore",
    event: event({ currentPath: "/a/very/long/path/to/some/file.txt", errors: 3 }),
    elapsedMs: 10_000,
  };
  for (const width of [20, 15, 10, 5, 2]) {
    const line = renderProgress(view, width);
    assert.ok(columns(line) <= width - 1, `${width}: ${line}`);
  }
  assert.equal(renderProgress(view, 0), renderProgress(view, 80));
  assert.equal(renderProgress(view, NaN), renderProgress(view, 80));
});

Deno.test("renderProgress() escapes a file name's C1 controls, line separators and bidirectional controls", () => {
  const line = renderProgress(
    {
      label: "backup",
      event: event({ currentPath: "/src/a\u009b2Jb\u0085c\u2028d\u202eexe.txt" }),
      elapsedMs: 10_000,
    },
    200,
  );
  assert.ok(!/[\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(line), line);
  assert.match(line, /\/src\/a\\u009b2Jb\\u0085c\\u2028d\\u202eexe\.txt$/);
});

Deno.test("renderProgress() counts wide emoji as two columns, so such a name cannot wrap the line", () => {
  for (const c of ["\u231a", "\u26a1", "\u2705", "\u2b50", "\u{1f004}", "\u{1f197}"]) {
    const line = renderProgress(
      { label: "backup", event: event({ currentPath: `/r/${c.repeat(60)}` }), elapsedMs: 10_000 },
      80,
    );
    assert.ok(columns(line) <= 79, `${columns(line)}: ${line}`);
  }
});

Deno.test("renderProgress() shows no ETA once the bytes passed a short estimate, nor an absurd one", () => {
  const over = renderProgress(
    {
      label: "backup",
      event: event({ filesDone: 7000, bytesDone: 500 * MiB }),
      elapsedMs: 10_000,
    },
    200,
  );
  assert.ok(!over.includes("ETA"), over);
  const slow = renderProgress(
    {
      label: "restore",
      event: event({ bytesDone: 1, bytesTotal: 2 ** 50 }),
      elapsedMs: 1_000_000_000,
    },
    200,
  );
  assert.ok(!slow.includes("ETA") && !slow.includes("e+"), slow);
});

/** A display's io whose ticks the test runs (`tick()`), and whose writes fail once `broken`. */
function fakeIo(): ProgressIo & { written: string[]; tick(): void; broken: boolean } {
  let ticks: (() => void)[] = [];
  const io = {
    written: [] as string[],
    broken: false,
    write: (t: string) => {
      if (io.broken) throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
      io.written.push(t);
    },
    width: () => 80,
    now: () => 0,
    every: (_ms: number, tick: () => void) => {
      ticks.push(tick);
      return () => void (ticks = ticks.filter((t) => t !== tick));
    },
    tick: () => ticks.forEach((t) => t()),
  };
  return io;
}

Deno.test("a --json ProgressDisplay writes the final line once, even when a tick came after the final event", () => {
  const io = fakeIo();
  const display = new ProgressDisplay("backup", "json", io);
  display.update(event());
  io.tick();
  display.update(event({ filesDone: 5678, bytesDone: 400 * MiB, final: true }));
  io.tick();
  io.tick();
  display.done();
  const lines = io.written.map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.final), [false, true]);
});

Deno.test("a ProgressDisplay whose stderr fails (a closed pipe) goes quiet and never throws", () => {
  for (const mode of ["line", "json"] as const) {
    const io = fakeIo();
    const display = new ProgressDisplay("restore", mode, io);
    display.update(event());
    io.broken = true;
    io.tick();
    display.note("warning: something");
    display.update(event({ final: true }));
    io.tick();
    io.broken = false;
    io.tick();
    display.done();
    assert.deepEqual(io.written, mode === "line" ? ["\r\x1b[Krestore 0:00  starting…"] : []);
  }
});

Deno.test("a terminal display paused before a second round draws nothing over its question until the next event", () => {
  const written: string[] = [];
  const ticks: (() => void)[] = [];
  const stopped: boolean[] = [];
  const io: ProgressIo = {
    write: (t) => written.push(t),
    width: () => 80,
    now: () => 0,
    every: (_ms, tick) => {
      const i = ticks.push(tick) - 1;
      stopped[i] = false;
      return () => stopped[i] = true;
    },
  };
  const progress = displayOnFirstEvent("rebuild", "line", io);
  progress.onProgress!(event({ phase: "rebuild", filesDone: 2, filesTotal: 2 }));
  ticks[0]();
  progress.pause();
  assert.equal(written.at(-1), "\n", "the line is ended before the question");
  assert.deepEqual(stopped, [true], "and no longer redrawn");
  const before = written.length;
  progress.onProgress!(event({ phase: "rebuild", filesDone: 2, filesTotal: 3 }));
  assert.equal(written.length, before, "nothing until the next tick");
  assert.equal(ticks.length, 2, "the next event draws again");
  ticks[1]();
  assert.match(written.at(-1)!, /rebuild .*2\/3 packs/);
  progress.done();
  assert.deepEqual(stopped, [true, true]);
});

Deno.test("a paused display ended without a new event writes its last line once, and a warning meanwhile draws no line under it", () => {
  for (const mode of ["line", "json"] as const) {
    const io = fakeIo();
    const progress = displayOnFirstEvent("rebuild", mode, io);
    progress.onProgress!(event({ phase: "rebuild", filesDone: 2, filesTotal: 2 }));
    io.tick();
    progress.pause();
    const paused = io.written.length;
    progress.done();
    assert.equal(io.written.length, paused, `${mode}: ${JSON.stringify(io.written.slice(paused))}`);
  }
  const io = fakeIo();
  const display = new ProgressDisplay("rebuild", "line", io);
  display.update(event({ phase: "rebuild" }));
  display.pause();
  display.note("warning: something");
  assert.deepEqual(io.written.at(-1), "\r\x1b[Kwarning: something\n");
});
