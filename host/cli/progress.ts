/**
 * A one-line progress display on a terminal (files, bytes, rate, ETA); silent otherwise.
 *
 * @module
 */

import { bytes, plural } from "./context.ts";

export class Progress {
  #files = 0;
  #bytes = 0;
  #start = performance.now();
  #timer?: ReturnType<typeof setInterval>;
  #enabled: boolean;
  #total?: { files: number; bytes: number };

  constructor(private label: string, enabled = Deno.stderr.isTerminal()) {
    this.#enabled = enabled;
    if (enabled) this.#timer = setInterval(() => this.#draw(), 250);
  }

  /** Sets what 100% is, for the ETA. */
  total(files: number, bytes: number): void {
    this.#total = { files, bytes };
  }

  add(files: number, bytes: number): void {
    this.#files += files;
    this.#bytes += bytes;
  }

  set(files: number, bytes: number): void {
    this.#files = files;
    this.#bytes = bytes;
  }

  /** Prints a line (a warning) above the progress line, which is then redrawn. */
  note(line: string): void {
    const clear = this.#enabled ? "\r\x1b[K" : "";
    Deno.stderr.writeSync(new TextEncoder().encode(`${clear}${line}\n`));
    if (this.#enabled) this.#draw();
  }

  done(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#enabled) {
      this.#enabled = false;
      this.#draw();
      Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    }
  }

  #draw(): void {
    const secs = (performance.now() - this.#start) / 1000;
    const rate = secs > 0 ? this.#bytes / secs : 0;
    let line = `${this.label}: ${plural(this.#files, "file")}, ${bytes(this.#bytes)}, ${
      bytes(rate)
    }/s`;
    if (this.#total && rate > 0) {
      const left = Math.max(0, this.#total.bytes - this.#bytes) / rate;
      const pct = this.#total.bytes > 0 ? (100 * this.#bytes) / this.#total.bytes : 100;
      line += `, ${pct.toFixed(0)}%, ETA ${clock(left)}`;
    }
    Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${line}`));
  }
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
}

function pad(n: number): string {
  return n.toString().padStart(2, "0");
}

/** Counts files and bytes under paths (lstat only), for a backup's ETA. */
export function scanTotals(paths: string[]): { files: number; bytes: number } {
  let files = 0, total = 0;
  const walk = (p: string) => {
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(p);
    } catch {
      return;
    }
    if (st.isFile) {
      files++;
      total += st.size;
    } else if (st.isDirectory) {
      try {
        for (const e of Deno.readDirSync(p)) walk(`${p}/${e.name}`);
      } catch {
        // unreadable: the backup reports it
      }
    }
  };
  for (const p of paths) walk(p);
  return { files, bytes: total };
}
