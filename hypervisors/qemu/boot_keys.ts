/**
 * A parsed boot command as the key events Packer's VNC driver sends: X11
 * keysyms pressed and released, shift wrapped around characters that need
 * it, and waits. Which key goes with which keysym is the VNC server's
 * business (qemu maps keysyms through its keyboard layout).
 */
import type { BootCommandToken, KeyAction, SpecialKeyName } from "./boot_command.ts";
import { parseDuration } from "../../template/duration.ts";

/** One thing the typist does: a key event or a pause. */
export type KeyStep =
  | { type: "key"; keysym: number; down: boolean }
  | { type: "wait"; ms: number };

/** X11 keysym of Shift_L, the shift Packer holds for upper-case and shifted characters. */
export const leftShiftKeysym = 0xffe1;

/** X11 keysyms of the special keys (Packer's VNC driver's table). */
export const specialKeysyms: Readonly<Record<SpecialKeyName, number>> = {
  bs: 0xff08,
  del: 0xffff,
  down: 0xff54,
  end: 0xff57,
  enter: 0xff0d,
  esc: 0xff1b,
  f1: 0xffbe,
  f2: 0xffbf,
  f3: 0xffc0,
  f4: 0xffc1,
  f5: 0xffc2,
  f6: 0xffc3,
  f7: 0xffc4,
  f8: 0xffc5,
  f9: 0xffc6,
  f10: 0xffc7,
  f11: 0xffc8,
  f12: 0xffc9,
  home: 0xff50,
  insert: 0xff63,
  left: 0xff51,
  leftalt: 0xffe9,
  leftctrl: 0xffe3,
  leftshift: 0xffe1,
  leftsuper: 0xffeb,
  menu: 0xff67,
  pagedown: 0xff56,
  pageup: 0xff55,
  return: 0xff0d,
  right: 0xff53,
  rightalt: 0xffea,
  rightctrl: 0xffe4,
  rightshift: 0xffe2,
  rightsuper: 0xffec,
  spacebar: 0x20,
  tab: 0xff09,
  up: 0xff52,
  // Packer maps these for macOS's VNC server: Command is Alt_L/R, Option is Meta_L/R.
  leftcommand: 0xffe9,
  rightcommand: 0xffea,
  leftoption: 0xffe7,
  rightoption: 0xffe8,
};

const shiftedCharacters = '~!@#$%^&*()_+{}|:"<>?';

/** True when Packer holds shift to type `char`: upper-case letters (any script) and US-shifted symbols. */
export function needsShift(char: string): boolean {
  return /^\p{Lu}$/u.test(char) || shiftedCharacters.includes(char);
}

/**
 * The key events of a boot command. A character's keysym is its code point,
 * as in Packer (right for ASCII and Latin-1, which is what boot commands type).
 */
export function bootKeySteps(tokens: readonly BootCommandToken[]): KeyStep[] {
  const steps: KeyStep[] = [];
  for (const token of tokens) {
    if (token.kind === "wait") {
      steps.push({ type: "wait", ms: token.ms });
    } else if (token.kind === "special") {
      pushAction(steps, specialKeysyms[token.key], token.action);
    } else {
      const keysym = token.char.codePointAt(0)!;
      const shift = needsShift(token.char);
      if (token.action !== "off" && shift) steps.push(key(leftShiftKeysym, true));
      pushAction(steps, keysym, token.action);
      if (token.action !== "on" && shift) steps.push(key(leftShiftKeysym, false));
    }
  }
  return steps;
}

function pushAction(steps: KeyStep[], keysym: number, action: KeyAction): void {
  if (action !== "off") steps.push(key(keysym, true));
  if (action !== "on") steps.push(key(keysym, false));
}

function key(keysym: number, down: boolean): KeyStep {
  return { type: "key", keysym, down };
}

/** Packer's pause after every key event when neither the template nor the environment sets one. */
export const defaultKeyIntervalMs = 100;

/**
 * The pause after each key event, as Packer chooses it: `boot_key_interval`
 * when positive, else `PACKER_KEY_INTERVAL` when it is a Go duration, else
 * 100 ms. (`boot_keygroup_interval` does not apply: Packer's VNC driver
 * sends each event at once and never groups them.)
 */
export function keyIntervalMs(bootKeyIntervalMs: number | undefined, env: string | undefined) {
  if (bootKeyIntervalMs !== undefined && bootKeyIntervalMs > 0) return bootKeyIntervalMs;
  const fromEnv = env === undefined ? undefined : parseDuration(env);
  if (fromEnv !== undefined) return Math.max(0, fromEnv);
  return defaultKeyIntervalMs;
}
