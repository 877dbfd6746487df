/**
 * After success, failure, abort + cleanup, cancel, and a manifest shared by
 * two builds of which one fails: `runs show --json` lists as live exactly
 * what exists, and every file the run made is in the ledger.
 */
import { join } from "node:path";
import { Checks, type TrialOutcome } from "../../support/trials.ts";
import type { FileLab } from "../../../tests/support/file_lab.ts";
import { filesUnder } from "../../../tests/support/ledger_honesty.ts";
import { watchKiln } from "../../../tests/support/kiln_process.ts";
import { identityOf } from "../../../runtime/local_identity.ts";
import { honest, inLab, runIdIn } from "./lab.ts";

/** How the run ends before `runs show` is read. */
export type Ending =
  | "success"
  | "failure"
  | "cancel"
  | "abort, then cleanup"
  | "two builds share a manifest, one fails";

/** Two builds, one manifest; b fails after writing it. */
function sharedTemplate(out: string) {
  return {
    builders: ["a", "b"].map((name) => ({
      type: "file",
      name,
      content: `${name}\n`,
      target: join(out, `${name}.img`),
    })),
    "post-processors": [[
      { type: "manifest", output: join(out, "manifest.json") },
      { type: "shell-local", only: ["b"], inline: ["exit 2"] },
    ]],
  };
}

function showTemplate(fail: boolean, sleep: boolean) {
  return (out: string) => ({
    builders: [{
      type: "file",
      name: "site",
      content: "<h1>hi</h1>\n",
      target: `${out}/site/index.html`,
    }],
    provisioners: [{ type: "shell-local", inline: [`printf 'about\\n' > ${out}/site/about.txt`] }],
    "post-processors": [[
      { type: "artifice", files: [`${out}/site/*`] },
      { type: "compress", output: `${out}/{{.BuildName}}.tar.gz`, keep_input_artifact: true },
      { type: "checksum", checksum_types: ["sha256"], output: `${out}/{{.BuildName}}.sum` },
      { type: "manifest", output: `${out}/manifest.json` },
      ...(fail ? [{ type: "shell-local", inline: ["exit 6"] }] : []),
      ...(sleep ? [{ type: "shell-local", inline: ["echo pp-sleeping", "sleep 30"] }] : []),
    ]],
  });
}

/** Problems with what `runs show --json` lists as live: each must exist, as recorded. */
async function showProblems(lab: FileLab, runId: string): Promise<string[]> {
  const shown = await lab.kiln(["runs", "show", runId, "--json"]);
  const state = JSON.parse(shown.stdout);
  const problems: string[] = [];
  for (const b of Object.values(state.builds) as { resources: unknown[] }[]) {
    for (
      const e of b.resources as {
        resource: { id: string };
        deletedAt?: string;
        released?: unknown;
      }[]
    ) {
      if (e.deletedAt || e.released) continue;
      if (!await identityOf(e.resource.id)) {
        problems.push(`runs show lists ${e.resource.id} as live`);
      }
    }
  }
  return problems;
}

/** Ends a run as `ending` says and compares `runs show` and the ledger with the disk. */
export function showTrial(ending: Ending): Promise<TrialOutcome> {
  const shared = ending === "two builds share a manifest, one fails";
  const template = shared ? sharedTemplate : showTemplate(
    ending === "failure" || ending === "abort, then cleanup",
    ending === "cancel",
  );
  return inLab(template, undefined, async (lab) => {
    const c = new Checks();
    // The provisioner's about.txt is its own side effect until artifice adopts it.
    const check = async (runId: string, when: string) => {
      for (const p of await showProblems(lab, runId)) c.expect(false, `${when}: ${p}`);
      await honest(c, lab, runId, when);
    };
    if (ending === "cancel") {
      const kiln = watchKiln(["build", lab.file], { cwd: lab.dir, home: lab.home });
      try {
        await kiln.waitFor(/pp-sleeping/);
        kiln.process.kill("SIGINT");
        await kiln.done();
      } finally {
        try {
          kiln.process.kill("SIGKILL");
        } catch {
          // Exited.
        }
        await kiln.done();
      }
      const runId = runIdIn(kiln.output());
      if (!runId) return { problems: ["no run id"], leaked: 0, lost: 0 };
      await check(runId, "after the cancel");
      return c.outcome();
    }
    const run = await lab.build(ending === "abort, then cleanup" ? ["-on-error=abort"] : []);
    const runId = lab.runIdOf(run);
    c.expect((run.code === 0) === (ending === "success"), `exit ${run.code}`);
    await check(runId, `after the ${ending === "success" ? "success" : "failure"}`);
    if (shared) {
      const left = [...await filesUnder([lab.out])].map((p) => p.slice(lab.out.length + 1)).sort();
      c.expect(
        left.join(",") === "a.img,manifest.json",
        `a's results should stay, b's go: ${left}`,
      );
    }
    const clean = await lab.kiln(["cleanup", runId]);
    c.expect(clean.code === 0, `cleanup exited ${clean.code}`);
    await check(runId, "after cleanup");
    return c.outcome();
  });
}

/** The provenance rows of the trust group. */
