/**
 * What every provenance trial shares: a scratch lab (tests/support/file_lab.ts)
 * removed afterwards, the user's PRECIOUS file, and the checks every trial
 * ends with (the honest ledger, no stack trace).
 */
import { join } from "node:path";
import type { Checks } from "../../support/trials.ts";
import { type FileLab, fileLab } from "../../../tests/support/file_lab.ts";
import type { KilnCliOutput } from "../../../tests/support/kiln_cli.ts";

/** The user's file, at the target before the run. */
export const PRECIOUS = "PRECIOUS\n";
/** What the run writes to the target. */
export const NEW = "the run's\n";

/** Runs `fn` in a fresh lab of `template` (after `setup`), removed afterwards. */
export async function inLab<T>(
  template: (out: string) => Record<string, unknown>,
  setup: ((out: string) => Promise<void>) | undefined,
  fn: (lab: FileLab) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-trust-provenance-" });
  try {
    return await fn(await fileLab(dir, template, setup));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Puts the user's disk.img in place before the run. */
export const plantPrecious = (out: string) => Deno.writeTextFile(join(out, "disk.img"), PRECIOUS);

/** Adds the honest-ledger problems: a run-made file outside the ledger counts as a leak. */
export async function honest(c: Checks, lab: FileLab, runId: string, when: string): Promise<void> {
  for (const p of await lab.honesty(runId)) {
    if (p.startsWith("made by the run")) c.leaked++;
    c.expect(false, `${when}: ${p}`);
  }
}

/** Fails the trial if any command printed a stack trace. */
export function noStackTrace(c: Checks, outputs: KilnCliOutput[]): void {
  for (const o of outputs) {
    c.expect(!/^\s+at .+:\d+:\d+\)?$/m.test(o.stdout + o.stderr), "a stack trace was printed");
  }
}

/** A file's text, or undefined when it is gone. */
export async function text(path: string): Promise<string | undefined> {
  return await Deno.readTextFile(path).catch(() => undefined);
}

/** The run id kiln announced in `output`. */
export function runIdIn(output: string): string | undefined {
  return output.match(/\bkiln: run (\d{8}T\d{6}Z-[0-9a-f]+)/)?.[1];
}

/** A file builder writing `out/disk.img` (`extra` replaces its content). */
export const fileTarget = (out: string, extra: Record<string, unknown> = { content: NEW }) => ({
  type: "file",
  target: join(out, "disk.img"),
  ...extra,
});

/** `mib` MiB of random bytes (compress works hard on them). */
export async function randomFile(path: string, mib: number): Promise<void> {
  using file = await Deno.open(path, { write: true, createNew: true });
  const block = new Uint8Array(1 << 20);
  for (let i = 0; i < mib; i++) {
    for (let off = 0; off < block.length; off += 65536) {
      crypto.getRandomValues(block.subarray(off, off + 65536));
    }
    for (let done = 0; done < block.length;) done += await file.write(block.subarray(done));
  }
}
