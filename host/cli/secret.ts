/**
 * Reads a secret from the terminal without echoing it. Backspace removes one character (not
 * one byte), and input typed or pasted past the first line is kept for the next prompt, so
 * pasting "secret⏎secret⏎" answers both of `init`'s questions.
 *
 * @module
 */

const encoder = new TextEncoder();
/** Bytes read past the end of the previous secret's line. */
let pending: number[] = [];

export async function readSecret(prompt: string): Promise<string> {
  await Deno.stderr.write(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(256);
  try {
    for (;;) {
      if (pending.length === 0) {
        const n = await Deno.stdin.read(buf);
        if (n === null) break;
        pending = [...buf.subarray(0, n)];
      }
      const b = pending.shift()!;
      if (b === 3) throw new Deno.errors.Interrupted("cancelled");
      if (b === 13 || b === 10) {
        if (b === 13 && pending[0] === 10) pending.shift();
        break;
      }
      if (b === 127 || b === 8) {
        // drop one UTF-8 character: its continuation bytes (10xxxxxx), then its lead byte
        while (bytes.length > 0 && (bytes[bytes.length - 1] & 0xc0) === 0x80) bytes.pop();
        bytes.pop();
      } else {
        bytes.push(b);
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
