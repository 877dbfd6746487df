/**
 * Permission scenarios: while an amazon-instance build runs, its run
 * directory is 0700 and its log, lock and secrets (the temporary private key
 * among them) 0600; when the command that ends the run is done — success,
 * failure, cancel (SIGINT) or `kiln cleanup` after `-on-error=abort` — no
 * private key and no temporary file is left.
 */
import type { CampaignSize, Scenario } from "../types.ts";
import { openLab } from "../support/labs.ts";
import { type KilnExit, runKilnIn, spawnKiln } from "../support/kiln_process.ts";
import { verifyLog } from "../support/log_check.ts";
import { checkModes } from "../support/permissions.ts";
import { checkAftermath } from "../support/aftermath.ts";
import { Checks, runScenario, type TrialOutcome } from "../support/trials.ts";
import { runDir } from "../../runtime/paths.ts";

type Path = "success" | "failure" | "cancel" | "cleanup";

const MARK = "kiln-permissions-check";

async function pathTrial(path: Path): Promise<TrialOutcome> {
  const fails = path === "failure" || path === "cleanup";
  const lab = await openLab("aws", {
    provisioners: [{
      type: "shell",
      inline: [`echo ${MARK}`, "sleep 2", ...(fails ? ["exit 3"] : [])],
    }],
  });
  const c = new Checks();
  try {
    const flags = path === "cleanup" ? ["-on-error=abort"] : [];
    const proc = spawnKiln(["build", ...flags, ...lab.buildArgs], lab.spawn());
    const seen = await proc.waitForLine(new RegExp(MARK));
    const outputs: KilnExit[] = [];
    let runId: string | undefined;
    if (seen) {
      runId = (await Array.fromAsync(Deno.readDir(`${lab.home}/runs`)))[0]?.name;
      if (runId) {
        c.problems.push(...await checkModes(lab.home, runId, { finished: false }));
        try {
          await Deno.stat(`${runDir(runId, lab.home)}/secrets/ssh_private_key`);
        } catch {
          c.expect(false, "no temporary private key while the build runs");
        }
      }
      if (path === "cancel") proc.kill("SIGINT");
    } else c.expect(false, "the provisioner never ran");
    const first = await proc.done;
    outputs.push(first);
    runId ??= first.runId;
    if (!runId) return { problems: ["no run"], leaked: 0, lost: 0 };
    const want = path === "success" ? 0 : path === "cancel" ? 130 : 1;
    c.expect(first.code === want, `exit ${first.code}, expected ${want}`);
    if (path === "cleanup") {
      const cleaned = await runKilnIn(["cleanup", runId], lab.spawn());
      outputs.push(cleaned);
      c.expect(cleaned.code === 0, `cleanup exited ${cleaned.code}`);
    }
    const log = await verifyLog(lab.home, runId);
    c.expect(log.ok, `log: ${log.ok ? "" : log.problem}`);
    await checkAftermath(c, lab, runId, log.ok ? log.state : undefined, outputs);
    return c.outcome();
  } finally {
    await lab.close();
  }
}

/** The permissions group. */
export const permissions: Scenario = {
  group: "permissions",
  async run(size: CampaignSize) {
    const paths: Path[] = ["success", "failure", "cancel", "cleanup"];
    const rounds = size === "full" ? 3 : 1;
    return [
      await runScenario(
        "modes 0700/0600 while running; no key or temp file left after success, failure, cancel, cleanup",
        Array.from({ length: rounds }, () => paths).flat(),
        (p) => p,
        pathTrial,
      ),
    ];
  },
};
