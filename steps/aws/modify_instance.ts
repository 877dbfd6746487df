/**
 * ena_support / sriov_support, set on the stopped build instance (EC2 allows
 * them only there) so that CreateImage gives the AMI both.
 */
import type { Step } from "../../runtime/types.ts";
import { ec2For } from "./client.ts";
import type { InstanceOutput } from "./run_instance.ts";

/** The "modify instance" step: ENA and SR-IOV on the stopped instance, when asked for. */
export function modifyInstanceStep(): Step<Record<string, never>> {
  return {
    id: "aws.modify_instance",
    async run(ctx) {
      const { ModifyInstanceAttributeCommand } = await import("@aws-sdk/client-ec2");
      const { instanceId } = ctx.state["aws.run_instance"] as InstanceOutput;
      const ec2 = await ec2For(ctx);
      if (ctx.config.ena_support === true) {
        ctx.ui.say("Enabling Enhanced Networking (ENA)...");
        await ec2.send(
          new ModifyInstanceAttributeCommand({
            InstanceId: instanceId,
            EnaSupport: { Value: true },
          }),
          { abortSignal: ctx.signal },
        );
      }
      if (ctx.config.sriov_support === true) {
        ctx.ui.say("Enabling Enhanced Networking (SR-IOV)...");
        await ec2.send(
          new ModifyInstanceAttributeCommand({
            InstanceId: instanceId,
            SriovNetSupport: { Value: "simple" },
          }),
          { abortSignal: ctx.signal },
        );
      }
      return {};
    },
  };
}
