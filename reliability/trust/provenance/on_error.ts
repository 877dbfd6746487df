/**
 * A failing post-processor's outputs follow -on-error: cleanup deletes the
 * build's results, abort leaves them in the ledger for `kiln cleanup`, ask's
 * retry runs only the failed post-processor again.
 */
import { join } from "node:path";
import { Checks, type TrialOutcome } from "../../support/trials.ts";
import { filesUnder } from "../../../tests/support/ledger_honesty.ts";
import { identityOf } from "../../../runtime/local_identity.ts";
import { runBuild } from "../../../runtime/run_build.ts";
import { prepareTemplate } from "../../../template/mod.ts";
import { fileTarget, honest, inLab, text } from "./lab.ts";
import { kilnComponents } from "../../../components.ts";

/** How the failing post-processor is handled. */
export type PpMode = "cleanup" | "abort, then kiln cleanup" | "ask, retry";

function ppTemplate(flag: string) {
  return (out: string) => ({
    builders: [fileTarget(out)],
    "post-processors": [[
      { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
      {
        type: "shell-local",
        inline: [`echo ran >> ${flag}.count`, `if [ -e ${flag} ]; then rm ${flag}; exit 3; fi`],
      },
    ]],
  });
}

/** A build whose shell-local post-processor fails once, handled per `mode`. */
export function ppTrial(mode: PpMode): Promise<TrialOutcome> {
  return inLab(ppTemplate("FLAG"), undefined, async (lab) => {
    const c = new Checks();
    // The template names FLAG; point it into the lab.
    const flag = join(lab.dir, "fail");
    await Deno.writeTextFile(
      lab.file,
      (await Deno.readTextFile(lab.file)).replaceAll("FLAG", flag),
    );
    await Deno.writeTextFile(flag, "");
    const disk = join(lab.out, "disk.img");
    const archive = join(lab.out, "disk.tar.gz");
    if (mode === "ask, retry") {
      const prepared = await prepareTemplate(lab.file, {}, { registry: kilnComponents });
      let asked = 0;
      const result = await runBuild(prepared, {
        components: kilnComponents,
        home: lab.home,
        onError: "ask",
        ask: () => {
          asked++;
          return Promise.resolve("r");
        },
        output: false,
      });
      c.expect(result.status === "succeeded", `build ${result.status}`);
      c.expect(asked === 1, `asked ${asked} times`);
      c.expect(
        await text(`${flag}.count`) === "ran\nran\n",
        "the post-processor ran other than twice",
      );
      c.expect(await identityOf(archive) !== undefined, "the archive is gone after success");
      await honest(c, lab, result.runId, "after success");
      return c.outcome();
    }
    const run = await lab.build(mode === "cleanup" ? [] : ["-on-error=abort"]);
    const runId = lab.runIdOf(run);
    c.expect(run.code === 1, `exit ${run.code}`);
    if (mode === "cleanup") {
      const left = [...await filesUnder([lab.out])];
      c.leaked += left.length;
      c.expect(left.length === 0, `left: ${left.join(", ")}`);
      await honest(c, lab, runId, "after the failure");
      return c.outcome();
    }
    c.expect(
      await identityOf(disk) !== undefined && await identityOf(archive) !== undefined,
      "abort did not leave the outputs",
    );
    await honest(c, lab, runId, "after the abort");
    const clean = await lab.kiln(["cleanup", runId]);
    c.expect(/: 2 deleted, 0 failed/.test(clean.stdout), `cleanup: ${clean.stdout.slice(-200)}`);
    const left = [...await filesUnder([lab.out])];
    c.leaked += left.length;
    c.expect(left.length === 0, `left: ${left.join(", ")}`);
    await honest(c, lab, runId, "after cleanup");
    return c.outcome();
  });
}
