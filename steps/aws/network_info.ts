/**
 * Resolves where the instance launches: subnet (by id or filter), its VPC and
 * availability zone, as Packer's network-info step does.
 */
import type { Step } from "../../runtime/types.ts";
import { ec2For } from "./client.ts";

/** The network the instance will use ("" = let EC2 choose). */
export interface NetworkInfo {
  vpcId: string;
  subnetId: string;
  availabilityZone: string;
}

interface Filtered {
  filters?: Record<string, string>;
  most_free?: boolean;
  random?: boolean;
}

function toFilters(filters: Record<string, string> = {}) {
  return Object.entries(filters).map(([Name, v]) => ({ Name, Values: v.split(",") }));
}

/** The "network info" step. */
export function networkInfoStep(): Step<NetworkInfo> {
  return {
    id: "aws.network",
    async run(ctx) {
      const sdk = await import("@aws-sdk/client-ec2");
      const ec2 = await ec2For(ctx);
      const opts = { abortSignal: ctx.signal };
      let vpcId = String(ctx.config.vpc_id ?? "");
      let subnetId = String(ctx.config.subnet_id ?? "");
      let availabilityZone = String(ctx.config.availability_zone ?? "");
      const vpcFilter = ctx.config.vpc_filter as Filtered | undefined;
      const subnetFilter = ctx.config.subnet_filter as Filtered | undefined;

      if (!vpcId && vpcFilter?.filters && Object.keys(vpcFilter.filters).length > 0) {
        const out = await ec2.send(
          new sdk.DescribeVpcsCommand({ Filters: toFilters(vpcFilter.filters) }),
          opts,
        );
        if ((out.Vpcs ?? []).length !== 1) {
          throw new Error(
            `vpc_filter must match exactly one VPC, it matched ${(out.Vpcs ?? []).length}`,
          );
        }
        vpcId = out.Vpcs![0].VpcId ?? "";
        ctx.ui.message(`Found VPC ID: ${vpcId}`);
      }

      if (!subnetId && subnetFilter?.filters && Object.keys(subnetFilter.filters).length > 0) {
        const filters = toFilters(subnetFilter.filters);
        if (vpcId) filters.push({ Name: "vpc-id", Values: [vpcId] });
        if (availabilityZone) {
          filters.push({ Name: "availability-zone", Values: [availabilityZone] });
        }
        const out = await ec2.send(new sdk.DescribeSubnetsCommand({ Filters: filters }), opts);
        const subnets = out.Subnets ?? [];
        if (subnets.length === 0) throw new Error("no subnet matched subnet_filter");
        if (subnets.length > 1 && !subnetFilter.most_free && !subnetFilter.random) {
          throw new Error(
            "subnet_filter matched more than one subnet; set most_free or random, or narrow the filter",
          );
        }
        const chosen = subnetFilter.random
          ? subnets[Math.floor(Math.random() * subnets.length)]
          : [...subnets].sort((a, b) =>
            (b.AvailableIpAddressCount ?? 0) - (a.AvailableIpAddressCount ?? 0)
          )[0];
        subnetId = chosen.SubnetId ?? "";
        ctx.ui.message(`Found Subnet ID: ${subnetId}`);
      }

      if (subnetId && (!vpcId || !availabilityZone)) {
        const out = await ec2.send(
          new sdk.DescribeSubnetsCommand({ SubnetIds: [subnetId] }),
          opts,
        );
        const subnet = out.Subnets?.[0];
        if (!subnet) throw new Error(`subnet ${subnetId} was not found`);
        vpcId ||= subnet.VpcId ?? "";
        availabilityZone ||= subnet.AvailabilityZone ?? "";
      }
      return { vpcId, subnetId, availabilityZone };
    },
  };
}
