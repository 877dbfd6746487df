/**
 * The security group: the user's (security_group_ids / security_group_filter)
 * or a temporary one open on the communicator port to
 * temporary_security_group_source_cidrs. Deleting retries while the group is
 * still attached to a terminating instance.
 */
import type { ResourceHandler, Step, StepContext } from "../../runtime/types.ts";
import { ec2For, errorCode, isNotFound } from "./client.ts";
import { kilnTags, resourceName } from "./identity.ts";
import type { NetworkInfo } from "./network_info.ts";
import { polling, sleep, waitFor } from "./wait.ts";
import { regionOf } from "./region.ts";

/** The groups the instance is launched in. */
export interface SecurityGroupOutput {
  groupIds: string[];
  temporary: boolean;
}

function commPort(config: Record<string, unknown>): number {
  if (config.communicator === "winrm") return Number(config.winrm_port ?? 5985);
  return Number(config.ssh_port ?? 22);
}

/** The "security group" step. */
export function securityGroupStep(): Step<SecurityGroupOutput> {
  return {
    id: "aws.security_group",
    async run(ctx) {
      const sdk = await import("@aws-sdk/client-ec2");
      const ec2 = await ec2For(ctx);
      const given = (ctx.config.security_group_ids as string[] | undefined) ?? [];
      if (given.length > 0) return { groupIds: given, temporary: false };
      const filter = ctx.config.security_group_filter as
        | { filters?: Record<string, string> }
        | undefined;
      if (filter?.filters && Object.keys(filter.filters).length > 0) {
        const out = await ec2.send(
          new sdk.DescribeSecurityGroupsCommand({
            Filters: Object.entries(filter.filters).map(([Name, v]) => ({ Name, Values: [v] })),
          }),
          { abortSignal: ctx.signal },
        );
        const ids = (out.SecurityGroups ?? []).map((g) => g.GroupId ?? "");
        if (ids.length === 0) throw new Error("no security group matched security_group_filter");
        return { groupIds: ids, temporary: false };
      }

      const network = ctx.state["aws.network"] as NetworkInfo | undefined;
      const name = resourceName(ctx);
      await ctx.intent({ kind: "aws.security_group", token: name });
      ctx.ui.say("Creating temporary security group for this instance: " + name);
      const created = await ec2.send(
        new sdk.CreateSecurityGroupCommand({
          GroupName: name,
          Description: "Temporary group for Packer",
          VpcId: network?.vpcId || undefined,
          TagSpecifications: [{ ResourceType: "security-group", Tags: kilnTags(ctx) }],
        }),
        { abortSignal: ctx.signal },
      );
      const groupId = created.GroupId ?? "";
      await ctx.created({
        kind: "aws.security_group",
        id: groupId,
        region: regionOf(ctx.config),
        temporary: true,
      });
      await authorize(ctx, groupId);
      return { groupIds: [groupId], temporary: true };
    },
    async reconcile(ctx, intents) {
      const intent = intents.find((i) => i.kind === "aws.security_group");
      if (!intent) return undefined;
      const { DescribeSecurityGroupsCommand } = await import("@aws-sdk/client-ec2");
      const ec2 = await ec2For(ctx);
      const out = await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [{ Name: "group-name", Values: [intent.token] }],
        }),
      );
      const group = out.SecurityGroups?.[0];
      if (!group?.GroupId) return undefined;
      await ctx.created({
        kind: "aws.security_group",
        id: group.GroupId,
        region: regionOf(ctx.config),
        temporary: true,
      });
      if ((group.IpPermissions ?? []).length === 0) {
        await authorize(ctx, group.GroupId);
      }
      return { groupIds: [group.GroupId], temporary: true };
    },
  };
}

async function authorize(ctx: StepContext, groupId: string) {
  const { AuthorizeSecurityGroupIngressCommand } = await import("@aws-sdk/client-ec2");
  const config = ctx.config;
  const signal = ctx.signal;
  const ec2 = await ec2For(ctx);
  const cidrs = (config.temporary_security_group_source_cidrs as string[] | undefined) ??
    ["0.0.0.0/0"];
  const port = commPort(config);
  // A group just created may not be visible yet (eventual consistency): as
  // Packer waits for it to exist, "not found" here means "not yet".
  await waitFor(
    `security group ${groupId} to exist`,
    polling(config, { delayMs: 2_000, maxAttempts: 30 }),
    signal,
    async () => {
      try {
        await ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: groupId,
            IpPermissions: [{
              IpProtocol: "tcp",
              FromPort: port,
              ToPort: port,
              IpRanges: cidrs.map((CidrIp) => ({ CidrIp })),
            }],
          }),
          { abortSignal: signal },
        );
        return true;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  );
}

/** Deletes a security group, retrying while an instance still holds it. */
export const securityGroupHandler: ResourceHandler = {
  async delete(ctx, resource) {
    const { DeleteSecurityGroupCommand } = await import("@aws-sdk/client-ec2");
    const ec2 = await ec2For(ctx, resource.region);
    const { delayMs, maxAttempts } = polling(ctx.config, { delayMs: 5_000, maxAttempts: 60 });
    ctx.ui.say(`Deleting temporary security group ${resource.id}...`);
    for (let attempt = 1;; attempt++) {
      try {
        await ec2.send(new DeleteSecurityGroupCommand({ GroupId: resource.id }));
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (errorCode(err) !== "DependencyViolation" || attempt >= maxAttempts) throw err;
        await sleep(delayMs, ctx.signal);
      }
    }
  },
};
