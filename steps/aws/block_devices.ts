/** `launch_block_device_mappings` / `ami_block_device_mappings` → EC2 BlockDeviceMappings. */
import type { BlockDeviceMapping, VolumeType } from "@aws-sdk/client-ec2";

/** Converts the template's block device list to the SDK's shape. */
export function blockDeviceMappings(list: unknown): BlockDeviceMapping[] {
  return ((list as Record<string, unknown>[] | undefined) ?? []).map((d) => ({
    DeviceName: d.device_name as string | undefined,
    VirtualName: d.virtual_name as string | undefined,
    NoDevice: d.no_device ? "" : undefined,
    // Ephemeral and suppressed devices carry no EBS settings.
    Ebs: d.virtual_name || d.no_device ? undefined : {
      DeleteOnTermination: d.delete_on_termination as boolean | undefined,
      Encrypted: d.encrypted as boolean | undefined,
      Iops: d.iops as number | undefined,
      KmsKeyId: d.kms_key_id as string | undefined,
      SnapshotId: d.snapshot_id as string | undefined,
      Throughput: d.throughput as number | undefined,
      VolumeSize: d.volume_size as number | undefined,
      VolumeType: d.volume_type as VolumeType | undefined,
    },
  }));
}

/**
 * The build instance's mappings: `launch_block_device_mappings`, and with
 * `no_ephemeral` a NoDevice entry for each of the 24 instance-store device
 * names (xvdb..xvdy), so no ephemeral drive is attached, as Packer.
 */
export function launchBlockDevices(config: Record<string, unknown>): BlockDeviceMapping[] {
  const mappings = blockDeviceMappings(config.launch_block_device_mappings);
  if (!config.no_ephemeral) return mappings;
  const taken = new Set(mappings.map((m) => m.DeviceName));
  for (let i = 0; i < 24; i++) {
    const name = `xvd${String.fromCharCode(98 + i)}`;
    if (!taken.has(name)) mappings.push({ DeviceName: name, NoDevice: "" });
  }
  return mappings;
}
