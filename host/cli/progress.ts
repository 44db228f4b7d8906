/**
 * How a long command shows its progress (the events of host/ops/progress.ts), on stderr:
 * - at a terminal, one line redrawn in place four times a second, drawn at once when the
 *   command starts: elapsed time, a bar and percent, files and bytes done of their totals
 *   ("scanning…" until a backup knows them), rate, ETA, errors so far and the current file,
 *   cut to the terminal's width so that it stays on one row. Warnings print above it;
 * - with `--json`, whether stderr is a terminal or not (it is for scripts), one JSON object
 *   per line about once a second, and one more when the command ends ({@link progressRecord});
 *   stdout keeps the command's one result document;
 * - otherwise nothing.
 *
 * @module
 */

import { type ProgressEvent, unitOf } from "../ops/progress.ts";
import { beforeSignalNotice } from "../storage/orderly_close.ts";
import { bytes, grouped, printable } from "./context.ts";

/** Where progress goes: a terminal line, JSON lines, or nowhere. */
export type ProgressMode = "line" | "json" | "off";

/** The mode for a command: JSON lines with `--json`, a line at a terminal, else none. */
export function progressMode(json: boolean, terminal = Deno.stderr.isTerminal()): ProgressMode {
  return json ? "json" : terminal ? "line" : "off";
}

/** Redraws of the terminal line, and JSON lines, at most this often. */
const LINE_EVERY_MS = 250;
const JSON_EVERY_MS = 1000;

/** What {@link ProgressDisplay} writes with and measures by (tests pass their own). */
export interface ProgressIo {
  /** May throw (a closed stderr): the display then stops writing, and the command goes on. */
  write(text: string): void;
  /** The terminal's width in columns (0 or less: unknown). */
  width(): number;
  now(): number;
  /**
   * Calls `tick` every `ms` until the returned function is called, never keeping the process
   * alive (default: an unref'd `setInterval`).
   */
  every?(ms: number, tick: () => void): () => void;
}

const stderrIo: ProgressIo = {
  write: (text) => writeAll(new TextEncoder().encode(text)),
  width: () => {
    try {
      return Deno.consoleSize().columns;
    } catch {
      return 0;
    }
  },
  now: () => performance.now(),
};

function every(ms: number, tick: () => void): () => void {
  const timer = setInterval(tick, ms);
  Deno.unrefTimer(timer); // a display never keeps the process alive
  return () => clearInterval(timer);
}

/**
 * Shows one command's progress in `mode`; call {@link done} in every case. It never throws:
 * when stderr cannot be written (closed, a pipe whose reader left), it goes quiet and the
 * command goes on, as `console.error` does.
 */
export class ProgressDisplay {
  #event?: ProgressEvent;
  #start: number;
  #stop?: () => void;
  #ended = false;
  /** Paused ({@link pause}) until the next event. */
  #paused = false;
  /** A write failed: nothing more is written. */
  #quiet = false;
  /** The final event was written as a JSON line: no line follows it. */
  #finalSent = false;
  /** Gives back the hook that clears the terminal line before a signal's message. */
  #unhook?: () => void;

  constructor(
    private label: string,
    readonly mode: ProgressMode,
    private io: ProgressIo = stderrIo,
  ) {
    this.#start = io.now();
    if (mode === "off") return;
    this.#tick();
    if (mode !== "line") return;
    this.#draw(); // nothing silent while the command starts
    // SIGINT's message (host/storage/orderly_close.ts) gets a clean line, and no redraw after it.
    this.#unhook = beforeSignalNotice(() => this.#clear());
  }

  /** Takes the latest event; it is shown at the next tick (resuming a paused display). */
  update(event: ProgressEvent): void {
    this.#event = event;
    if (this.#paused && !this.#ended) {
      this.#paused = false;
      this.#tick();
    }
  }

  /**
   * Ends the line (or writes the latest JSON line) and draws nothing until the next event: the
   * command is about to ask or wait (a rebuild's second round), and a line redrawn every 250 ms
   * would erase its question. The time keeps counting from the start.
   */
  pause(): void {
    if (this.#ended || this.#paused || this.mode === "off") return;
    this.#paused = true;
    this.#stop?.();
    this.#stop = undefined;
    if (this.mode === "line") {
      this.#draw();
      this.#write("\n");
    } else this.#json();
  }

  /** Redraws, or writes a JSON line, at the mode's pace until stopped. */
  #tick(): void {
    const ms = this.mode === "line" ? LINE_EVERY_MS : JSON_EVERY_MS;
    this.#stop = (this.io.every ?? every)(ms, () => this.#show());
  }

  /** Prints `line` (a warning) on a line of its own, above the progress line. */
  note(line: string): void {
    if (this.mode !== "line") return this.#write(`${line}\n`);
    this.#write(`\r\x1b[K${line}\n`);
    if (!this.#ended && !this.#paused) this.#draw();
  }

  /**
   * Stops the display, leaving the last line (or writing the last JSON line); paused, that was
   * written already (`pause`), and is not written again under the question.
   */
  done(): void {
    this.#unhook?.();
    if (this.#ended) return;
    this.#ended = true;
    this.#stop?.();
    if (this.#paused) return;
    if (this.mode === "line") {
      this.#draw();
      this.#write("\n");
    } else if (this.mode === "json") this.#json();
  }

  /** Stops the display and clears its line, for a message that is not the command's. */
  #clear(): void {
    this.#unhook?.();
    if (this.#ended) return;
    this.#ended = true;
    this.#stop?.();
    this.#write("\r\x1b[K");
  }

  /** Writes `text`, unless a write failed before; a failure stops the display. */
  #write(text: string): void {
    if (this.#quiet) return;
    try {
      this.io.write(text);
    } catch {
      this.#quiet = true;
      this.#stop?.();
    }
  }

  #show(): void {
    if (this.mode === "line") this.#draw();
    else this.#json();
  }

  #elapsed(): number {
    return this.io.now() - this.#start;
  }

  #draw(): void {
    const line = renderProgress(
      { label: this.label, event: this.#event, elapsedMs: this.#elapsed() },
      this.io.width(),
    );
    this.#write(`\r\x1b[K${line}`);
  }

  /** One JSON line, once there is an event to tell; none after the final one. */
  #json(): void {
    if (this.#event === undefined || this.#finalSent) return;
    this.#finalSent = this.#event.final;
    this.#write(`${JSON.stringify(progressRecord(this.#event, this.#elapsed()))}\n`);
  }
}

/**
 * A display in `mode` that starts with the first event (not while a command asks, requests
 * restores or waits for them): `onProgress` to hand the operation (none when `mode` is off),
 * `pause` before the operation asks or waits again (a rebuild's second round: the line is ended
 * and nothing is drawn over the question until the next event), and
 * `done` to call in every case.
 */
export function displayOnFirstEvent(label: string, mode: ProgressMode, io?: ProgressIo) {
  let display: ProgressDisplay | undefined;
  return {
    onProgress: mode === "off" ? undefined : (e: ProgressEvent) => {
      display ??= new ProgressDisplay(label, mode, io);
      display.update(e);
    },
    pause: () => display?.pause(),
    done: () => display?.done(),
  };
}

/**
 * One `--json` progress line: `{"type":"progress","phase":"backup"|"dry-run"|"restore"|
 * "rebuild"|"compact",
 * "files_done","files_total","bytes_done","bytes_total","errors","elapsed_s","current","final"}`,
 * totals and `current` null while unknown; `final` on the last line of a run that succeeded,
 * whose totals are then its counts.
 */
export function progressRecord(e: ProgressEvent, elapsedMs: number): Record<string, unknown> {
  return {
    type: "progress",
    phase: e.phase,
    files_done: e.filesDone,
    files_total: e.filesTotal ?? null,
    bytes_done: e.bytesDone,
    bytes_total: e.bytesTotal ?? null,
    errors: e.errors,
    elapsed_s: Math.round(elapsedMs / 100) / 10,
    current: e.currentPath ?? null,
    final: e.final,
  };
}

/** What one terminal line shows: the command's label, its latest event, and its time so far. */
export interface ProgressView {
  label: string;
  event?: ProgressEvent;
  elapsedMs: number;
}

/**
 * The terminal line for `view`, at most `width - 1` columns (the last column would wrap on
 * some terminals; a width of 0 or less, unknown, is taken as 80), for example
 * `backup 0:12  [####------] 35%  1,234/5,678 files  1.2/3.4 GiB  45.6 MiB/s  ETA 0:25
 * 2 errors  …/doc/report.pdf` (the final event's line names no file). When it does not fit,
 * the bar and the rate are left out to make room for at least {@link PATH_ROOM} columns of the
 * current file, cut from the left so that its name shows; when even that does not fit, the
 * file is left out, and then the bar, the rate, the ETA, the bytes and the files, in that
 * order. Pure: the same view and width give the same line.
 */
export function renderProgress(view: ProgressView, width: number): string {
  const max = Math.max(1, (Number.isFinite(width) && width > 0 ? width : 80) - 1);
  const { event: e, elapsedMs } = view;
  const head = `${view.label} ${clock(elapsedMs / 1000)}`;
  if (e === undefined) return cut(`${head}  starting…`, max);
  const parts = lineParts(e, elapsedMs, head, max >= 119 ? 20 : 10);
  if (e.currentPath !== undefined && !e.final) {
    const path = terminalText(e.currentPath);
    const reserve = 2 + Math.min(PATH_ROOM, length(path));
    const shown = fit(parts, max - reserve, DROP_FOR_PATH);
    if (length(joined(shown)) <= max - reserve) {
      const line = joined(shown);
      return `${line}  ${cutLeft(path, max - length(line) - 2)}`;
    }
  }
  return cut(joined(fit(parts, max, Infinity)), max);
}

/** The longest ETA shown (999:59:59); a longer one says nothing yet. */
const MAX_ETA_S = 1000 * 3600 - 1;

/** Columns of the current file that the bar and the rate give way to. */
export const PATH_ROOM = 14;
/** Parts with a lower `drop` than this give way to the current file. */
const DROP_FOR_PATH = 3;

/** One piece of the line; a lower `drop` is left out first. `tight`: one space after it. */
interface Part {
  text: string;
  drop: number;
  tight?: boolean;
}

/** The pieces of the line for `e`, in order. */
function lineParts(e: ProgressEvent, elapsedMs: number, head: string, cells: number): Part[] {
  const secs = elapsedMs / 1000;
  const rate = secs > 0 ? e.bytesDone / secs : 0;
  const known = e.filesTotal !== undefined && e.bytesTotal !== undefined;
  const unit = unitOf(e.phase);
  const share = known ? fraction(e) : 0;
  // None once the bytes passed an estimate that was short (files added during the walk), nor
  // while the rate so far gives an absurd one.
  const eta = known && rate > 0 && !e.final && e.bytesDone < e.bytesTotal!
    ? Math.ceil((e.bytesTotal! - e.bytesDone) / rate)
    : undefined;
  return [
    { text: head, drop: Infinity },
    ...(known
      ? [
        { text: bar(share, cells), drop: 1, tight: true },
        { text: `${Math.floor(share * 100)}%`, drop: 7 },
        { text: `${count(e.filesDone)}/${count(e.filesTotal!)} ${unit}`, drop: 6 },
        { text: bytesOf(e.bytesDone, e.bytesTotal!), drop: 5 },
      ]
      : [
        { text: `${count(e.filesDone)} ${unit}`, drop: 6 },
        { text: bytes(e.bytesDone), drop: 5 },
        { text: "scanning…", drop: 4 },
      ]),
    ...(rate > 0 ? [{ text: `${bytes(rate)}/s`, drop: 2 }] : []),
    ...(eta !== undefined && eta <= MAX_ETA_S ? [{ text: `ETA ${clock(eta)}`, drop: 3 }] : []),
    ...(e.errors > 0
      ? [{ text: `${count(e.errors)} error${e.errors === 1 ? "" : "s"}`, drop: 8 }]
      : []),
  ];
}

/** `parts` without the lowest ones (below `below`) until they fit in `max` columns. */
function fit(parts: Part[], max: number, below: number): Part[] {
  const out = [...parts];
  while (length(joined(out)) > max) {
    const lowest = out.reduce((a, b) => (b.drop < a.drop ? b : a));
    if (lowest.drop >= below) break;
    out.splice(out.indexOf(lowest), 1);
  }
  return out;
}

function joined(parts: Part[]): string {
  return parts.map((p, i) => i === parts.length - 1 ? p.text : p.text + (p.tight ? " " : "  "))
    .join("");
}

/** The share done: by bytes when there are any to do, else by files; at most 1. */
function fraction(e: ProgressEvent): number {
  if (e.final) return 1;
  const share = e.bytesTotal! > 0
    ? e.bytesDone / e.bytesTotal!
    : e.filesTotal! > 0
    ? e.filesDone / e.filesTotal!
    : 1;
  return Math.min(1, Math.max(0, share));
}

/** "1.2/3.4 GiB", or "512.0 KiB/3.4 GiB" when the units differ. */
function bytesOf(done: number, total: number): string {
  const [d, du] = bytes(done).split(" "), [t, tu] = bytes(total).split(" ");
  return du === tu ? `${d}/${t} ${tu}` : `${d} ${du}/${t} ${tu}`;
}

function bar(share: number, cells: number): string {
  const full = Math.floor(share * cells);
  return `[${"#".repeat(full)}${"-".repeat(cells - full)}]`;
}

/** Seconds as "0:07", "12:34" or "1:02:03". */
function clock(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
}

function pad(n: number): string {
  return n.toString().padStart(2, "0");
}

function count(n: number): string {
  return grouped(n);
}

/** Columns `text` takes: wide (East Asian, emoji) characters two, others one. */
function length(text: string): number {
  let n = 0;
  for (const c of text) n += columns(c);
  return n;
}

/**
 * Columns of one code point; over-counting is safe (the line is only shorter), so whole blocks
 * holding wide emoji (⌚, ⚡, ✅, ⭐, 🀄, 🆗) count two.
 */
function columns(c: string): number {
  const p = c.codePointAt(0)!;
  return (p >= 0x1100 && p <= 0x115f) || (p >= 0x2300 && p <= 0x23ff) ||
      (p >= 0x25a0 && p <= 0x27bf) || (p >= 0x2b00 && p <= 0x2bff) ||
      (p >= 0x2e80 && p <= 0xa4cf) || (p >= 0xa960 && p <= 0xa97f) ||
      (p >= 0xac00 && p <= 0xd7a3) || (p >= 0xf900 && p <= 0xfaff) ||
      (p >= 0xfe10 && p <= 0xfe19) || (p >= 0xfe30 && p <= 0xfe4f) ||
      (p >= 0xff00 && p <= 0xff60) || (p >= 0xffe0 && p <= 0xffe6) ||
      (p >= 0x16fe0 && p <= 0x1b2ff) || (p >= 0x1f000 && p <= 0x1faff) ||
      (p >= 0x20000 && p <= 0x3fffd)
    ? 2
    : 1;
}

/**
 * A file name as the line shows it: `printable` (C0 controls escaped), and C1 controls (which
 * some terminals obey: U+009B starts an escape sequence, U+0085 a new line), line and paragraph
 * separators and bidirectional controls (which reverse what follows) escaped too.
 */
function terminalText(text: string): string {
  return printable(text).replace(
    /[\u0080-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The first `max` columns of `text`, "…" ending it when cut. */
function cut(text: string, max: number): string {
  if (length(text) <= max) return text;
  let out = "", n = 1;
  for (const c of text) {
    if (n + columns(c) > max) break;
    out += c;
    n += columns(c);
  }
  return `${out}…`;
}

/** The last `max` columns of `text`, "…" starting it when cut: a path keeps its file name. */
function cutLeft(text: string, max: number): string {
  if (length(text) <= max) return text;
  const chars = Array.from(text);
  let at = chars.length, n = 1;
  while (at > 0 && n + columns(chars[at - 1]) <= max) n += columns(chars[--at]);
  return `…${chars.slice(at).join("")}`;
}

/** Writes all of `data` to stderr (a pipe may take it in parts). */
function writeAll(data: Uint8Array): void {
  let at = 0;
  while (at < data.length) at += Deno.stderr.writeSync(data.subarray(at));
}
