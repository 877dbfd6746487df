/**
 * What Packer's boot command parser refuses when a template is prepared: a
 * `<waitX>` whose duration Go cannot hold, and a wait that is not positive.
 * Everything else in a boot command is typed as written (an unknown `<tag>`
 * is text), so it is always valid. Typing itself is the VNC adapter's job.
 */
import { formatGoDuration, parseGoDurationNs } from "./go_duration.ts";

const INT64_MAX = (1n << 63n) - 1n;
const SECOND = 1_000_000_000n;

// Packer's grammar: `<wait` then a duration ((-?Integer(.Digits)?Unit)+) or a bare
// integer of seconds, then `>`. "wait" is case-sensitive; `0` alone means one second.
const WAIT = /<wait((?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+|0|[1-9]\d*)?>/g;

/** Pigeon's position prefix: 1-based line and rune column, byte offset. */
function position(text: string, index: number): string {
  const before = text.slice(0, index);
  const line = before.split("\n").length;
  const column = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
  const offset = new TextEncoder().encode(before).length;
  return `${line}:${column} (${offset})`;
}

/**
 * Packer's errors for a boot command (the list's items joined, as Packer
 * types them): parse errors first and alone, else one per non-positive wait.
 */
export function bootCommandProblems(command: string): string[] {
  const parseErrors: string[] = [];
  const waits: bigint[] = [];
  for (const m of command.matchAll(WAIT)) {
    const arg = m[1];
    const at = position(command, m.index + "<wait".length);
    if (arg === undefined || arg === "0") {
      waits.push(SECOND);
    } else if (/^\d+$/.test(arg)) {
      const n = BigInt(arg);
      if (n > INT64_MAX) {
        parseErrors.push(
          `${at}: rule Integer: strconv.ParseInt: parsing "${arg}": value out of range`,
        );
      } else waits.push(BigInt.asIntN(64, n * SECOND));
    } else {
      const ns = parseGoDurationNs(arg);
      if (ns === undefined) {
        parseErrors.push(`${at}: rule Duration: time: invalid duration "${arg}"`);
      } else waits.push(ns);
    }
  }
  if (parseErrors.length > 0) return [parseErrors.join("\n")];
  return waits.filter((ns) => ns <= 0n).map((ns) =>
    `Expecting a positive wait value. Got ${formatGoDuration(ns)}`
  );
}
