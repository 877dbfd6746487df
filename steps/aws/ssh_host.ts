/**
 * Which address of the instance the communicator connects to: `ssh_host`
 * when given, else the one `ssh_interface` names, else Packer's default
 * (for an instance in a VPC the public IP when there is one, otherwise the private IP;
 * outside a VPC the public DNS name).
 */
import type { NetworkInfo } from "./network_info.ts";
import type { InstanceOutput } from "./run_instance.ts";

/** The host to connect to for this build. */
export function instanceHost(
  config: Record<string, unknown>,
  instance: InstanceOutput,
  network?: NetworkInfo,
): string {
  const override = String(config.ssh_host ?? config.winrm_host ?? "");
  if (override) return override;
  switch (config.ssh_interface) {
    case "public_ip":
      return instance.publicIp;
    case "private_ip":
      return instance.privateIp;
    case "public_dns":
      return instance.publicDns;
    case "private_dns":
      return instance.privateDns;
  }
  if (instance.vpcId || network?.vpcId || network?.subnetId) {
    return instance.publicIp || instance.privateIp;
  }
  return instance.publicDns || instance.publicIp || instance.privateIp;
}
