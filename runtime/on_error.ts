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
import { PROVISION_STEP_ID, runErrorCleanupProvisioner } from "../steps/common/provision.ts";

/** Decides (asking the user for "ask") how to go on after `step` failed. */
export async function decideOnError(
  run: Pick<RunContext, "onError" | "ask">,
  step: Step,
  error: unknown,
  ctx: StepContext,
  ui: ReturnType<typeof logUi>,
): Promise<"cleanup" | "abort" | "retry"> {
  const provisioning = step.id === PROVISION_STEP_ID || error instanceof ProvisioningError;
  switch (run.onError) {
    case "abort":
      return "abort";
    case "run-cleanup-provisioner":
      if (provisioning) await runErrorCleanupProvisioner(ctx);
      return "abort";
    case "ask": {
      if (!run.ask) {
        ui.say("-on-error=ask needs a terminal; cleaning up");
        break;
      }
      ui.error(`Step "${step.id}" failed: ${errorMessage(error)}`);
      for (;;) {
        const answer = (await run.ask(
          "[c] Clean up and exit, [a] abort without cleanup, or [r] retry step " +
            "(build may fail even if retry succeeds)? ",
        )).trim().toLowerCase();
        if (answer === "a") return "abort";
        if (answer === "r") return "retry";
        if (answer === "c") break;
      }
      break;
    }
  }
  if (provisioning) await runErrorCleanupProvisioner(ctx);
  return "cleanup";
}
