/**
 * Ledger entries forged through the log writer (identities copied from the
 * real objects): outside the template's outputs, naming two paths, or
 * relative. `kiln cleanup` refuses and reports each; the victim survives.
 */
import { join } from "node:path";
import { Checks, type TrialOutcome } from "../../support/trials.ts";
import type { FileLab } from "../../../tests/support/file_lab.ts";
import { EventLog } from "../../../runtime/event_log.ts";
import { Masker } from "../../../runtime/masker.ts";
import { identityOf } from "../../../runtime/local_identity.ts";
import { fileTarget, inLab, noStackTrace, text } from "./lab.ts";

/** One forged ledger entry and how to tell its victim survived. */
export interface ForgeCase {
  name: string;
  /** Plants the victim; returns the forged record and the check that it survived. */
  forge(lab: FileLab): Promise<{ kind: string; id: string; data: Record<string, unknown> }>;
  survived(lab: FileLab): Promise<boolean>;
  fast?: boolean;
}

/** The forged entries, the fast ones marked. */
export const forgeCases: ForgeCase[] = [
  {
    name: "a directory outside the outputs, identity copied",
    async forge(lab) {
      const dir = join(lab.dir, "thesis");
      await Deno.mkdir(dir);
      await Deno.writeTextFile(join(dir, "ch1.tex"), "years\n");
      return {
        kind: "post-processor.output",
        id: dir,
        data: { path: dir, identity: await identityOf(dir), createdByRun: true },
      };
    },
    survived: async (lab) => await text(join(lab.dir, "thesis", "ch1.tex")) === "years\n",
    fast: true,
  },
  {
    name: "the user's file beside the outputs",
    async forge(lab) {
      const path = join(lab.out, "notes.txt");
      await Deno.writeTextFile(path, "mine\n");
      return { kind: "file", id: path, data: { path, identity: await identityOf(path) } };
    },
    survived: async (lab) => await text(join(lab.out, "notes.txt")) === "mine\n",
  },
  {
    name: "an entry naming two paths",
    async forge(lab) {
      const other = join(lab.dir, "other.txt");
      await Deno.writeTextFile(other, "mine\n");
      const id = join(lab.out, "disk.img");
      return { kind: "file", id, data: { path: other, identity: await identityOf(other) } };
    },
    survived: async (lab) => await text(join(lab.dir, "other.txt")) === "mine\n",
    fast: true,
  },
  {
    name: "a relative path",
    async forge(lab) {
      await Deno.writeTextFile(join(lab.dir, "rel.txt"), "mine\n");
      return {
        kind: "file",
        id: "rel.txt",
        data: { path: "rel.txt", identity: await identityOf(join(lab.dir, "rel.txt")) },
      };
    },
    survived: async (lab) => await text(join(lab.dir, "rel.txt")) === "mine\n",
  },
];

/** Forges one entry into an aborted run's log, cleans up, checks the refusal. */
export function forgeTrial(fc: ForgeCase): Promise<TrialOutcome> {
  return inLab(
    (out) => ({
      builders: [fileTarget(out)],
      provisioners: [{ type: "shell-local", inline: ["exit 4"] }],
    }),
    undefined,
    async (lab) => {
      const c = new Checks();
      const run = await lab.build(["-on-error=abort"]);
      const runId = lab.runIdOf(run);
      const record = await fc.forge(lab);
      const { log } = await EventLog.open(runId, lab.home, new Masker());
      log.append({ build: "file", type: "ResourceCreated", data: record });
      log.close();
      const clean = await lab.kiln(["cleanup", runId, "--json"]);
      let result: { refused?: { id: string; reason: string }[] } = {};
      try {
        result = JSON.parse(clean.stdout);
      } catch {
        c.expect(false, `cleanup --json printed ${clean.stdout.slice(0, 200)} ${clean.stderr}`);
      }
      c.expect(await fc.survived(lab), "the forged entry's target was deleted");
      c.expect(
        (result.refused ?? []).some((r) => r.id === record.id),
        `not reported as refused (${JSON.stringify(result.refused)})`,
      );
      noStackTrace(c, [run, clean]);
      return c.outcome();
    },
  );
}
