/**
 * `kiln fix`'s engine: Packer 1.6.6's fixers, in Packer's order, over a
 * template's JSON value, and the JSON text `packer fix` prints for the
 * result. Pure: no files, no components (it works on types kiln has no
 * builder for just as well).
 */
import { BUILDER_FIXERS, type Fixer } from "./fixers_builders.ts";
import { CHAIN_FIXERS } from "./fixers_chain.ts";
import { goIndentedJson } from "./go_json.ts";
import type { Json } from "./shapes.ts";

export type { Fixer } from "./fixers_builders.ts";
export { FixError } from "./shapes.ts";

/** Packer 1.6.6's fixer names in the order `packer fix` runs them (its FixerOrder). */
const ORDER = [
  "iso-md5",
  "createtime",
  "virtualbox-gaattach",
  "pp-vagrant-override",
  "virtualbox-rename",
  "vmware-rename",
  "parallels-headless",
  "parallels-deprecations",
  "sshkeypath",
  "sshdisableagent",
  "scaleway-access-key",
  "manifest-filename",
  "amazon-shutdown_behavior",
  "amazon-enhanced-networking",
  "amazon-private-ip",
  "amazon-temp-sec-cidrs",
  "docker-email",
  "docker-tag-tags",
  "powershell-escapes",
  "vmware-compaction",
  "hyperv-deprecations",
  "hyperv-vmxc-typo",
  "hyperv-cpu-and-ram",
  "clean-image-name",
  "spot-price-auto-product",
  "qemu-disk-size",
  "galaxy-command",
  "comm-config",
  "ssh-wait-timeout",
  "vsphere-iso-net-disk",
  "iso-checksum-type-and-url",
  "qemu-host-port",
  "azure-exclude_from_latest",
  "proxmox-type",
];

/** Packer 1.6.6's fixers in the order `packer fix` runs them. */
export const FIXERS: readonly Fixer[] = ORDER.map((name) => {
  const fixer = BUILDER_FIXERS[name] ?? CHAIN_FIXERS[name];
  if (!fixer) throw new Error(`fixer not found: ${name}`);
  return fixer;
});

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
