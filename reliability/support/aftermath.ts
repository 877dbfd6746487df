/**
 * The checks every trial ends with, whatever it did to the run: nothing left
 * in the ledger, the peer or the temp directory, modes right and no key
 * material left, and no sentinel secret in any byte kiln wrote.
 */
import type { RunState } from "../../runtime/fold.ts";
import type { KilnExit } from "./kiln_process.ts";
import type { Lab } from "./labs.ts";
import { liveLedger } from "./log_check.ts";
import { checkModes } from "./permissions.ts";
import type { Checks } from "./trials.ts";
import { scanForSentinels } from "../secret_scan.ts";

/** Adds the aftermath's problems, leaks and secret hits to `c`. */
export async function checkAftermath(
  c: Checks,
  lab: Lab,
  runId: string,
  state: RunState | undefined,
  outputs: KilnExit[],
  extraSecrets: Record<string, string> = {},
): Promise<void> {
  if (state) {
    const live = liveLedger(state, false);
    c.leaked += live.length;
    if (live.length) c.expect(false, `ledger still holds ${live.join(", ")}`);
  }
  const leaks = await lab.leaks(state);
  c.leaked += leaks.length;
  if (leaks.length) c.expect(false, `left behind: ${leaks.join(", ")}`);
  const tmpLeft = await Array.fromAsync(Deno.readDir(lab.tmp));
  c.leaked += tmpLeft.length;
  if (tmpLeft.length) c.expect(false, `temp files left: ${tmpLeft.map((e) => e.name)}`);
  c.problems.push(...await checkModes(lab.home, runId, { finished: true }));
  const texts: Record<string, string> = {};
  outputs.forEach((o, n) => {
    texts[`command ${n + 1} stdout`] = o.stdout;
    texts[`command ${n + 1} stderr`] = o.stderr;
    c.expect(
      !/^\s+at .+:\d+:\d+\)?$/m.test(o.stdout + o.stderr),
      `command ${n + 1} printed a stack trace`,
    );
  });
  const hits = await scanForSentinels([lab.home, lab.tmp, ...lab.outputs], texts, extraSecrets);
  if (hits.length) c.expect(false, `secrets written: ${hits.slice(0, 3).join("; ")}`);
}
