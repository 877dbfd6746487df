/**
 * What the run made, replaced after the run (another file, an edit, a
 * symlink, another directory): `kiln cleanup` refuses, keeps it, reports it
 * once and never again, and still deletes the rest.
 */
import { join } from "node:path";
import { Checks, type TrialOutcome } from "../../support/trials.ts";
import { filesUnder } from "../../../tests/support/ledger_honesty.ts";
import { identityOf } from "../../../runtime/local_identity.ts";
import { fileTarget, inLab, noStackTrace, text } from "./lab.ts";

/** One way to replace what the run made after the run. */
export interface ReplaceCase {
  name: string;
  /** The path replaced, relative to out/. */
  path: string;
  replace(path: string, victim: string): Promise<void>;
  fast?: boolean;
}

/** The replacements, the fast ones marked. */
export const replaceCases: ReplaceCase[] = [
  {
    name: "target replaced by another file",
    path: "disk.img",
    async replace(path) {
      await Deno.remove(path);
      await Deno.writeTextFile(path, "the user's new disk\n");
    },
    fast: true,
  },
  {
    name: "target rewritten in place",
    path: "disk.img",
    replace: (path) => Deno.writeTextFile(path, "the user's edit, longer than before\n"),
  },
  {
    name: "target replaced by a symlink",
    path: "disk.img",
    async replace(path, victim) {
      await Deno.remove(path);
      await Deno.symlink(victim, path);
    },
    fast: true,
  },
  {
    name: "compress output replaced",
    path: "disk.tar.gz",
    async replace(path) {
      await Deno.remove(path);
      await Deno.writeTextFile(path, "another archive\n");
    },
  },
  {
    name: "adopted directory replaced",
    path: "vm",
    async replace(path) {
      await Deno.remove(path, { recursive: true });
      await Deno.mkdir(path);
      await Deno.writeTextFile(join(path, "mine"), "the user's\n");
    },
  },
];

function abortedTemplate(out: string) {
  return {
    builders: [fileTarget(out)],
    provisioners: [{ type: "shell-local", inline: [`mkdir ${out}/vm && echo a > ${out}/vm/a`] }],
    "post-processors": [
      [
        { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
        { type: "shell-local", inline: ["exit 4"] },
      ],
      { type: "artifice", files: [join(out, "vm")] },
    ],
  };
}

/** Aborts a build, replaces one of its outputs, cleans up, checks the refusal. */
export function replaceTrial(rc: ReplaceCase): Promise<TrialOutcome> {
  return inLab(abortedTemplate, undefined, async (lab) => {
    const c = new Checks();
    const victim = join(lab.dir, "victim.txt");
    await Deno.writeTextFile(victim, "not kiln's\n");
    const run = await lab.build(["-on-error=abort"]);
    const runId = lab.runIdOf(run);
    const path = join(lab.out, rc.path);
    await rc.replace(path, victim);
    const before = await identityOf(path);
    const clean = await lab.kiln(["cleanup", runId, "--json"]);
    c.expect(clean.code === 0, `cleanup exited ${clean.code}: ${clean.stderr}`);
    let refused: { id: string }[] = [];
    try {
      refused = JSON.parse(clean.stdout).refused;
    } catch {
      c.expect(false, `cleanup --json printed ${clean.stdout.slice(0, 200)}`);
    }
    c.expect(refused.some((r) => r.id === path), `not reported as refused: ${rc.path}`);
    const after = await identityOf(path);
    c.expect(
      after !== undefined && before !== undefined && after.ino === before.ino,
      `${rc.path} was deleted`,
    );
    c.expect(await text(victim) === "not kiln's\n", "the symlink's target was touched");
    const again = await lab.kiln(["cleanup", runId, "--json"]);
    const second = JSON.parse(again.stdout || "{}");
    c.expect(
      second.refused?.length === 0 && second.deleted?.length === 0,
      "a refusal came back on the second cleanup",
    );
    // The rest of the run's files are gone; what it refused is the user's now.
    const left = [...await filesUnder([lab.out])].filter((p) =>
      p !== path && !p.startsWith(`${path}/`)
    );
    c.leaked += left.length;
    c.expect(left.length === 0, `left: ${left.join(", ")}`);
    noStackTrace(c, [run, clean, again]);
    return c.outcome();
  });
}
