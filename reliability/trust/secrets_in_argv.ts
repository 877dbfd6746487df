/**
 * Finding 11, secrets in argv: Packer's default execute_command puts every
 * environment_vars value on a command line any local user can read in `ps`.
 * With `use_env_var_file` the values travel in a 0600 file instead. Each
 * trial runs a build whose sensitive variable is built to break quoting,
 * sweeps every process's command line from start to exit, and checks what
 * the script saw, the file's mode, that no env var file is left (after a
 * failure and Ctrl-C too) and that neither the value nor the file's lines
 * reach the output or the event log.
 */
import type { CampaignSize, ScenarioResult } from "../types.ts";
import { Checks, runScenario, type TrialOutcome } from "../support/trials.ts";
import {
  ENV_FILE_SHAPES,
  type EnvFileEnding,
  type EnvFileLab,
  envFileProblems,
  type EnvFileShape,
  openEnvFileLab,
} from "../../tests/support/env_var_file_lab.ts";

const ENDINGS: EnvFileEnding[] = ["success", "failure", "ctrl-c"];

interface Trial {
  shape: EnvFileShape;
  ending: EnvFileEnding;
  repeat: number;
}

function trials(size: CampaignSize): Trial[] {
  if (size === "fast") {
    return ENV_FILE_SHAPES.map((shape) => ({ shape, ending: "success", repeat: 1 }));
  }
  const out: Trial[] = [];
  for (let repeat = 1; repeat <= 2; repeat++) {
    for (const shape of ENV_FILE_SHAPES) {
      for (const ending of ENDINGS) out.push({ shape, ending, repeat });
    }
  }
  return out;
}

async function trial(lab: EnvFileLab, t: Trial): Promise<TrialOutcome> {
  const c = new Checks();
  for (const problem of envFileProblems(await lab.run(t.shape, t.ending))) c.expect(false, problem);
  return c.outcome();
}

/** The trust row for use_env_var_file. */
export async function trustRows(size: CampaignSize): Promise<ScenarioResult[]> {
  const lab = await openEnvFileLab();
  try {
    return [
      await runScenario(
        "use_env_var_file: sensitive values in no process's argv " +
          "(shell over SSH, shell-local provisioner, shell-local post-processor)",
        trials(size),
        (t) => `${t.shape}, ${t.ending}${t.repeat > 1 ? ` #${t.repeat}` : ""}`,
        (t) => trial(lab, t),
        { deadlineMs: 120_000 },
      ),
    ];
  } finally {
    await lab.close();
  }
}
