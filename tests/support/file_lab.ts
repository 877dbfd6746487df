/**
 * A scratch workspace for provenance tests and trust trials: a template of
 * local builds (the `file` builder, shell-local, post-processors) under
 * `dir`, a KILN_HOME beside it, `kiln` run as a user runs it, and the
 * honest-ledger check over `out/` against what was there before the run.
 */
import { join } from "node:path";
import { type KilnCliOutput, runKiln } from "./kiln_cli.ts";
import { filesUnder, ledgerProblems, runState } from "./ledger_honesty.ts";
import type { RunState } from "../../runtime/fold.ts";

/** A workspace. */
export interface FileLab {
  dir: string;
  /** Where the template's builds write (watched by the honesty check). */
  out: string;
  home: string;
  /** The template file. */
  file: string;
  /** Files under `out` before the first build (the user's). */
  before: Set<string>;
  /** `kiln build [flags] <template>`. */
  build(flags?: string[], env?: Record<string, string>): Promise<KilnCliOutput>;
  /** Any kiln command, in the workspace. */
  kiln(args: string[], env?: Record<string, string>): Promise<KilnCliOutput>;
  /** The run id a build announced (on stderr, as it starts). */
  runIdOf(output: KilnCliOutput): string;
  state(runId: string): Promise<RunState>;
  /** The honest-ledger problems of a run (see ledger_honesty.ts). */
  honesty(runId: string, exempt?: (path: string) => boolean): Promise<string[]>;
}

/**
 * Opens a lab in `dir`: `setup` plants the user's files in `out` first,
 * `template` receives `out` and returns the template.
 */
export async function fileLab(
  dir: string,
  template: (out: string) => Record<string, unknown>,
  setup: (out: string) => Promise<void> = () => Promise.resolve(),
): Promise<FileLab> {
  const out = join(dir, "out");
  await Deno.mkdir(out, { recursive: true });
  await setup(out);
  const before = await filesUnder([out]);
  const file = join(dir, "template.json");
  await Deno.writeTextFile(file, JSON.stringify(template(out), null, 2));
  const home = join(dir, ".kiln");
  const kiln = (args: string[], env: Record<string, string> = {}) =>
    runKiln(args, { cwd: dir, home, env });
  return {
    dir,
    out,
    home,
    file,
    before,
    build: (flags = [], env = {}) => kiln(["build", ...flags, file], env),
    kiln,
    runIdOf: (output) => {
      const id = output.stderr.match(/\bkiln: run (\d{8}T\d{6}Z-[0-9a-f]+)/)?.[1];
      if (!id) throw new Error(`no run id announced: ${output.stderr}`);
      return id;
    },
    state: (runId) => runState(home, runId),
    honesty: (runId, exempt) => ledgerProblems(home, runId, { watch: [out], before, exempt }),
  };
}
