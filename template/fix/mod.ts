/**
 * `kiln fix`'s engine: Packer 1.6.6's fixers, in Packer's order, over a
 * template's JSON value, and the JSON text `packer fix` prints for the
 * result. Pure: no files, no components (it works on types kiln has no
 * builder for just as well).
 */
import * as b from "./fixers_builders.ts";
import * as c from "./fixers_chain.ts";
import type { Fixer } from "./fixers_builders.ts";
import { goIndentedJson } from "./go_json.ts";
import type { Json } from "./shapes.ts";

export type { Fixer } from "./fixers_builders.ts";
export { FixError } from "./shapes.ts";

/** Packer 1.6.6's fixers in the order `packer fix` runs them. */
export const FIXERS: readonly Fixer[] = [
  b.isoMd5,
  b.createTime,
  b.virtualboxGaAttach,
  c.vagrantOverride,
  b.virtualboxRename,
  b.vmwareRename,
  b.parallelsHeadless,
  b.parallelsDeprecations,
  b.sshKeyPath,
  b.sshDisableAgent,
  b.scalewayAccessKey,
  c.manifestFilename,
  b.amazonShutdownBehavior,
  b.amazonEnhancedNetworking,
  b.amazonPrivateIp,
  b.amazonTempSecCidrs,
  c.dockerEmail,
  c.dockerTagTags,
  c.powershellEscapes,
  b.vmwareCompaction,
  b.hypervDeprecations,
  b.hypervVmxcTypo,
  b.hypervCpuAndRam,
  b.cleanImageName,
  b.spotPriceAutoProduct,
  b.qemuDiskSize,
  c.galaxyCommand,
  b.commConfig,
  b.sshWaitTimeout,
  b.vsphereNetworkDisk,
  b.isoChecksumTypeAndUrl,
  b.qemuHostPort,
  b.azureExcludeFromLatest,
  b.proxmoxType,
];

/**
 * Runs every fixer over a copy of `template` (a parsed JSON object) and
 * returns the fixed value; throws FixError where Packer's fixers fail.
 */
export function fixTemplate(template: Json): Json {
  const input = structuredClone(template);
  for (const fixer of FIXERS) fixer.fix(input);
  return input;
}

/** The text `packer fix` prints for a fixed template (Go's JSON, two-space indent). */
export function fixedTemplateText(fixed: Json): string {
  return goIndentedJson(fixed);
}
