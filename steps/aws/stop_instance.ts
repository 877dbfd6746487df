/**
 * Stops the build instance before its volumes are snapshotted (Packer's
 * "stop instance" step), or with `disable_stop_instance` waits for the
 * provisioning to have stopped it.
 */
import type { Step, StepContext } from "../../runtime/types.ts";
import { ec2For, isNotFound } from "./client.ts";
import type { InstanceOutput } from "./run_instance.ts";
import { polling, waitFor } from "./wait.ts";

async function waitStopped(ctx: StepContext, instanceId: string): Promise<void> {
  const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await ec2For(ctx);
  await waitFor(`instance ${instanceId} to stop`, polling(ctx.config), ctx.signal, async () => {
    try {
      const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), {
        abortSignal: ctx.signal,
      });
      const state = out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
      if (state === "stopped") return true;
      if (state === "terminated" || state === "shutting-down") {
        throw new Error(`instance ${instanceId} is ${state}: it was to be stopped, not terminated`);
      }
      return undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
}

/** The "stop instance" step (idempotent: stopping a stopped instance is a no-op on EC2). */
export function stopInstanceStep(): Step<Record<string, never>> {
  return {
    id: "aws.stop_instance",
    // Stopped, the instance has no sshd: a resume from here on must not wait for SSH.
    endsConnection: true,
    async run(ctx) {
      const { StopInstancesCommand } = await import("@aws-sdk/client-ec2");
      const { instanceId } = ctx.state["aws.run_instance"] as InstanceOutput;
      const ec2 = await ec2For(ctx);
      if (ctx.config.disable_stop_instance) {
        ctx.ui.say("Automatic instance stop disabled. Please stop instance manually.");
      } else {
        ctx.ui.say("Stopping the source instance...");
        await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }), {
          abortSignal: ctx.signal,
        });
      }
      ctx.ui.say("Waiting for the instance to stop...");
      await waitStopped(ctx, instanceId);
      return {};
    },
  };
}
