/**
 * Typing text on the guest's emulated keyboard through QMP `send-key`: the
 * same PS/2 key events a VNC client's boot_command produces, so tests of
 * what a guest receives do not depend on a VNC client.
 */
import type { QmpClient } from "./qmp.ts";

const unshifted: Record<string, string> = {
  " ": "spc",
  "-": "minus",
  "=": "equal",
  ".": "dot",
  ",": "comma",
  "/": "slash",
  ";": "semicolon",
  "'": "apostrophe",
  "[": "bracket_left",
  "]": "bracket_right",
  "\\": "backslash",
  "`": "grave_accent",
  "\n": "ret",
  "\t": "tab",
};
const shifted: Record<string, string> = {
  "!": "1",
  "@": "2",
  "#": "3",
  "$": "4",
  "%": "5",
  "^": "6",
  "&": "7",
  "*": "8",
  "(": "9",
  ")": "0",
  "_": "minus",
  "+": "equal",
  ":": "semicolon",
  '"': "apostrophe",
  "<": "comma",
  ">": "dot",
  "?": "slash",
  "{": "bracket_left",
  "}": "bracket_right",
  "|": "backslash",
  "~": "grave_accent",
};

/** The QMP qcodes pressed together to type `char` on a US keyboard. */
export function qcodesFor(char: string): string[] {
  if (/^[a-z0-9]$/.test(char)) return [char];
  if (/^[A-Z]$/.test(char)) return ["shift", char.toLowerCase()];
  if (char in unshifted) return [unshifted[char]];
  if (char in shifted) return ["shift", shifted[char]];
  throw new Error(`cannot type ${JSON.stringify(char)} with send-key (US layout)`);
}

/** Types `text` one key chord at a time (`\n` is Enter), pausing so each press is released first. */
export async function typeText(qmp: QmpClient, text: string, keyIntervalMs = 40): Promise<void> {
  for (const char of text) {
    const keys = qcodesFor(char).map((data) => ({ type: "qcode", data }));
    await qmp.execute("send-key", { keys, "hold-time": 20 });
    await new Promise((r) => setTimeout(r, keyIntervalMs));
  }
}
