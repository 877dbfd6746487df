/**
 * `-on-error`: what a build does when a step fails. Unlike Packer, "ask" →
 * retry re-runs only the failed step (a resumed provision step skips the
 * provisioners that already succeeded), and the error-cleanup-provisioner
 * runs only when provisioning is what failed.
 */
import type { Step, StepContext } from "./types.ts";
import type { RunContext } from "./build_runner.ts";
import type { logUi } from "./ui.ts";
import { errorMessage, ProvisioningError } from "./errors.ts";

/** Decides (asking the user for "ask") how to go on after `step` failed. */
export async function decideOnError(
  run: Pick<RunContext, "onError" | "ask" | "steps">,
  step: Step,
  error: unknown,
  ctx: StepContext,
  ui: ReturnType<typeof logUi>,
): Promise<"cleanup" | "abort" | "retry"> {
  const provisioning = step.id === run.steps.provisionStepId ||
    error instanceof ProvisioningError;
  switch (run.onError) {
    case "abort":
      return "abort";
    case "run-cleanup-provisioner":
      if (provisioning) await run.steps.runErrorCleanupProvisioner(ctx);
      return "abort";
    case "ask": {
      const answer = await askUser(run, `Step "${step.id}"`, "step", error, ui);
      if (answer !== "cleanup") return answer;
      break;
    }
  }
  if (provisioning) await run.steps.runErrorCleanupProvisioner(ctx);
  return "cleanup";
}

/**
 * After a post-processor failed: cleanup undoes the whole build (its
 * outputs and the builder's artifact), abort leaves them in the ledger for
 * `kiln cleanup` or `--resume`, and ask's retry runs only that
 * post-processor again.
 */
export async function decideAfterPostProcessor(
  run: Pick<RunContext, "onError" | "ask">,
  type: string,
  error: unknown,
  ui: ReturnType<typeof logUi>,
): Promise<"cleanup" | "abort" | "retry"> {
  switch (run.onError) {
    case "abort":
    case "run-cleanup-provisioner":
      return "abort";
    case "ask":
      return await askUser(run, `Post-processor ${type}`, "post-processor", error, ui);
  }
  return "cleanup";
}

async function askUser(
  run: Pick<RunContext, "ask">,
  what: string,
  retryWhat: string,
  error: unknown,
  ui: ReturnType<typeof logUi>,
): Promise<"cleanup" | "abort" | "retry"> {
  if (!run.ask) {
    ui.say("-on-error=ask needs a terminal; cleaning up");
    return "cleanup";
  }
  ui.error(`${what} failed: ${errorMessage(error)}`);
  for (;;) {
    const answer = (await run.ask(
      `[c] Clean up and exit, [a] abort without cleanup, or [r] retry ${retryWhat} ` +
        "(build may fail even if retry succeeds)? ",
    )).trim().toLowerCase();
    if (answer === "a") return "abort";
    if (answer === "r") return "retry";
    if (answer === "c") return "cleanup";
  }
}
