/**
 * Packer's boot command language: `<enter>`, `<leftCtrlOn>`, `<cOn>`,
 * `<wait>`, `<wait1m30s>` and every other character typed as itself.
 *
 * The grammar is Packer's PEG (packer-plugin-sdk bootcommand/boot_command.pigeon)
 * read as ordered choices: at each position a wait, then a character toggle,
 * then a special key, else the single character. Anything that is not a
 * token is typed literally, so `<enterr>` types eight characters, exactly as
 * Packer does; {@link parseBootCommand} reports those as warnings. The only
 * errors are waits Packer refuses (not positive, or beyond Go's longest
 * duration), each naming the boot_command element and column.
 */

/** What a token does to its key: a full press, hold it down (`On`), or release it (`Off`). */
export type KeyAction = "press" | "on" | "off";

/** Special key names in Packer's spelling, lower-cased as its VNC driver looks them up. */
export type SpecialKeyName =
  | "bs"
  | "del"
  | "enter"
  | "esc"
  | "f10"
  | "f11"
  | "f12"
  | "f1"
  | "f2"
  | "f3"
  | "f4"
  | "f5"
  | "f6"
  | "f7"
  | "f8"
  | "f9"
  | "return"
  | "tab"
  | "up"
  | "down"
  | "spacebar"
  | "insert"
  | "home"
  | "end"
  | "pageup"
  | "pagedown"
  | "leftalt"
  | "leftctrl"
  | "leftshift"
  | "rightalt"
  | "rightctrl"
  | "rightshift"
  | "leftsuper"
  | "rightsuper"
  | "leftcommand"
  | "rightcommand"
  | "leftoption"
  | "rightoption"
  | "left"
  | "right"
  | "menu";

/**
 * Packer's alternatives in its order: a longer name sharing a prefix comes
 * first (`f10` before `f1`, `leftAlt` before `left`), because the first that
 * matches wins and is never retried.
 */
export const specialKeyNames: readonly SpecialKeyName[] = [
  "bs",
  "del",
  "enter",
  "esc",
  "f10",
  "f11",
  "f12",
  "f1",
  "f2",
  "f3",
  "f4",
  "f5",
  "f6",
  "f7",
  "f8",
  "f9",
  "return",
  "tab",
  "up",
  "down",
  "spacebar",
  "insert",
  "home",
  "end",
  "pageup",
  "pagedown",
  "leftalt",
  "leftctrl",
  "leftshift",
  "rightalt",
  "rightctrl",
  "rightshift",
  "leftsuper",
  "rightsuper",
  "leftcommand",
  "rightcommand",
  "leftoption",
  "rightoption",
  "left",
  "right",
  "menu",
];

/** Where a token starts: the boot_command element and the 1-based column (in characters) within it. */
export interface BootCommandPosition {
  element: number;
  column: number;
}

/** One parsed token with the text it came from. */
export type BootCommandToken =
  & { text: string; at: BootCommandPosition }
  & (
    | { kind: "wait"; ms: number }
    | { kind: "special"; key: SpecialKeyName; action: KeyAction }
    | { kind: "char"; char: string; action: KeyAction }
  );

/** A parsed boot command. */
export interface ParsedBootCommand {
  tokens: BootCommandToken[];
  /** `<...>` text that is no token and will be typed character by character, as Packer does. */
  warnings: string[];
}

/** A boot command Packer would refuse; the message names the element and column. */
export class BootCommandError extends Error {
  constructor(message: string, readonly at: BootCommandPosition) {
    super(message);
    this.name = "BootCommandError";
  }
}

// Go's int64 nanoseconds, in milliseconds.
const maxWaitMs = 9223372036854.775;
const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

// `(Number TimeUnit)+` or `Integer`; "wait" and the units are case-sensitive in Packer's grammar.
const waitPattern =
  /<wait(?:((?:-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+)|(0|[1-9][0-9]*))?>/y;
const durationPart = /(-?)((?:0|[1-9][0-9]*)(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/y;
const looksLikeToken = /<[A-Za-z0-9.µ-]{1,24}>/y;

/**
 * Parses a boot command. Packer joins the elements of `boot_command` into
 * one string before parsing (a token may even span two elements); positions
 * are mapped back to the element they fall in.
 */
export function parseBootCommand(command: string | readonly string[]): ParsedBootCommand {
  const parts = typeof command === "string" ? [command] : command;
  const text = parts.join("");
  const positionOf = positionMapper(parts);
  const tokens: BootCommandToken[] = [];
  const warnings: string[] = [];
  let i = 0;
  while (i < text.length) {
    const at = positionOf(i);
    const token = text[i] === "<" ? readAngleToken(text, i, at) : undefined;
    if (token) {
      tokens.push(token);
      i += token.text.length;
      continue;
    }
    if (text[i] === "<") {
      looksLikeToken.lastIndex = i;
      const m = looksLikeToken.exec(text);
      if (m) {
        warnings.push(
          `boot_command${where(at)}: ${JSON.stringify(m[0])} is not a special key or wait; ` +
            `it is typed character by character, as Packer does`,
        );
      }
    }
    const char = String.fromCodePoint(text.codePointAt(i)!);
    tokens.push({ kind: "char", char, action: "press", text: char, at });
    i += char.length;
  }
  return { tokens, warnings };
}

function readAngleToken(
  text: string,
  i: number,
  at: BootCommandPosition,
): BootCommandToken | undefined {
  waitPattern.lastIndex = i;
  const wait = waitPattern.exec(text);
  if (wait) {
    // `<wait0>` waits a second in Packer: its grammar gives the bare "0" no
    // number value, so the wait falls back to its default (packer validate agrees).
    const ms = wait[1] !== undefined
      ? goDurationMs(wait[1], wait[0], at)
      : wait[2] !== undefined && wait[2] !== "0"
      ? secondsMs(wait[2], wait[0], at)
      : 1000;
    if (!(ms > 0)) {
      throw new BootCommandError(
        `boot_command${where(at)}: ${JSON.stringify(wait[0])} waits ${
          wait[1] ?? wait[2]
        }; a wait must be positive`,
        at,
      );
    }
    return { kind: "wait", ms, text: wait[0], at };
  }

  const toggled = String.fromCodePoint(text.codePointAt(i + 1) ?? 0x3c);
  if (i + 1 < text.length) {
    const action = onOff(text, i + 1 + toggled.length);
    if (action && text[i + 1 + toggled.length + action.length] === ">") {
      const length = 1 + toggled.length + action.length + 1;
      return {
        kind: "char",
        char: toggled,
        action: action.kind,
        text: text.slice(i, i + length),
        at,
      };
    }
  }

  const rest = text.slice(i + 1, i + 1 + 16).toLowerCase();
  const key = specialKeyNames.find((name) => rest.startsWith(name));
  if (!key) return undefined;
  let end = i + 1 + key.length;
  const action = onOff(text, end);
  if (action) end += action.length;
  if (text[end] !== ">") return undefined;
  return {
    kind: "special",
    key,
    action: action?.kind ?? "press",
    text: text.slice(i, end + 1),
    at,
  };
}

function onOff(text: string, i: number): { kind: KeyAction; length: number } | undefined {
  if (text.slice(i, i + 2).toLowerCase() === "on") return { kind: "on", length: 2 };
  if (text.slice(i, i + 3).toLowerCase() === "off") return { kind: "off", length: 3 };
  return undefined;
}

// Go's time.ParseDuration on the matched text: a sign only before the first part.
function goDurationMs(duration: string, token: string, at: BootCommandPosition): number {
  let total = 0;
  let first = true;
  let negative = false;
  durationPart.lastIndex = 0;
  for (let m = durationPart.exec(duration); m; m = durationPart.exec(duration)) {
    if (m[1] === "-") {
      if (!first) {
        throw new BootCommandError(
          `boot_command${where(at)}: ${JSON.stringify(token)} is not a duration ` +
            `(a minus sign may only start it)`,
          at,
        );
      }
      negative = true;
    }
    total += Number(m[2]) * unitMs[m[3]];
    first = false;
  }
  if (total > maxWaitMs) throw tooLong(token, at);
  return negative ? -total : total;
}

function secondsMs(seconds: string, token: string, at: BootCommandPosition): number {
  const ms = Number(seconds) * 1000;
  if (ms > maxWaitMs) throw tooLong(token, at);
  return ms;
}

function tooLong(token: string, at: BootCommandPosition): BootCommandError {
  return new BootCommandError(
    `boot_command${where(at)}: ${
      JSON.stringify(token)
    } waits longer than Go's longest duration (2562047h47m16.854775807s)`,
    at,
  );
}

function where(at: BootCommandPosition): string {
  return `[${at.element}] column ${at.column}`;
}

function positionMapper(parts: readonly string[]): (offset: number) => BootCommandPosition {
  const starts: number[] = [];
  let offset = 0;
  for (const part of parts) {
    starts.push(offset);
    offset += part.length;
  }
  return (i) => {
    let element = 0;
    while (element + 1 < starts.length && starts[element + 1] <= i) element++;
    const prefix = parts[element].slice(0, i - starts[element]);
    return { element, column: [...prefix].length + 1 };
  };
}
