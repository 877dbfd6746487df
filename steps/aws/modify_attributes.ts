/** Shares the AMIs (ami_users, ami_groups, org/OU ARNs) and sets product codes and description. */
import type { Step } from "../../runtime/types.ts";
import { ec2For } from "./client.ts";
import type { AmiOutput } from "./register_ami.ts";
import { renderAmiText } from "./template_data.ts";

/** The "modify AMI attributes" step. */
export function modifyAttributesStep(): Step<Record<string, never>> {
  return {
    id: "aws.modify_attributes",
    async run(ctx) {
      const { amis } = ctx.state["aws.region_copy"] as AmiOutput;
      const list = (key: string) => (ctx.config[key] as string[] | undefined) ?? [];
      const users = list("ami_users");
      const groups = list("ami_groups");
      const orgs = list("ami_org_arns");
      const ous = list("ami_ou_arns");
      const productCodes = list("ami_product_codes");
      const description = renderAmiText(ctx, ctx.config.ami_description) ?? "";
      if (!users.length && !groups.length && !orgs.length && !ous.length && !productCodes.length) {
        if (!description) return {};
      }
      const { ModifyImageAttributeCommand } = await import("@aws-sdk/client-ec2");
      for (const [region, imageId] of Object.entries(amis)) {
        const ec2 = await ec2For(ctx, region);
        ctx.ui.say(`Modifying attributes on AMI (${imageId})...`);
        const send = (
          input: Omit<ConstructorParameters<typeof ModifyImageAttributeCommand>[0], "ImageId">,
        ) =>
          ec2.send(new ModifyImageAttributeCommand({ ...input, ImageId: imageId }), {
            abortSignal: ctx.signal,
          });
        if (description) await send({ Description: { Value: description } });
        if (users.length || groups.length || orgs.length || ous.length) {
          await send({
            LaunchPermission: {
              Add: [
                ...users.map((UserId) => ({ UserId })),
                ...groups.map((Group) => ({ Group: Group as "all" })),
                ...orgs.map((OrganizationArn) => ({ OrganizationArn })),
                ...ous.map((OrganizationalUnitArn) => ({ OrganizationalUnitArn })),
              ],
            },
          });
        }
        if (productCodes.length) await send({ ProductCodes: productCodes });
      }
      return {};
    },
  };
}
