/**
 * The options Packer 1.6.6's fixers rewrite, by the plugin types they apply
 * to (globs over a component's Packer plugin id, as Packer's generated
 * `DeprecatedOptions` table). An unknown key listed here for a component is
 * reported as deprecated with a pointer to `kiln fix` instead of as unknown,
 * as Packer's decoder does. Kept beside the fixers it describes.
 */

/** Plugin-id glob → the keys the fixers replace there. */
export const DEPRECATED_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  "*": [
    "iso_md5",
    "ssh_key_path",
    "ssh_disable_agent",
    "ssh_host_port_min",
    "ssh_host_port_max",
    "ssh_skip_nat_mapping",
    "ssh_wait_timeout",
    "iso_checksum_url",
    "iso_checksum_type",
  ],
  "*amazon*": [
    "shutdown_behaviour",
    "enhanced_networking",
    "ssh_private_ip",
    "temporary_security_group_source_cidr",
    "clean_ami_name",
    "spot_price_auto_product",
  ],
  "Azure*": ["clean_image_name", "exlude_from_latest"],
  "MSOpenTech.hyperv": ["vhd_temp_path", "clone_from_vmxc_path", "cpu", "ram_size"],
  "ansible": ["galaxycommand"],
  "hashicorp.scaleway": ["access_key"],
  "jetbrains.vsphere": [
    "network_card",
    "network",
    "networkCard",
    "disk_size",
    "disk_thin_provisioned",
    "disk_eagerly_scrub",
  ],
  "mitchellh.virtualbox": ["guest_additions_attach"],
  "packer.docker": ["login_email"],
  "packer.googlecompute": ["clean_image_name"],
  "packer.parallels": ["headless", "parallels_tools_host_path", "guest_os_distribution"],
  "packer.post-processor.docker-import": ["login_email"],
  "packer.post-processor.docker-tag": ["tag"],
  "packer.post-processor.manifest": ["filename"],
  "transcend.qemu": ["ssh_host_port_max", "ssh_host_port_min"],
};

/** Whether `key` is one a fixer rewrites for a component of Packer plugin id `pluginType`. */
export function isFixableOption(pluginType: string | undefined, key: string): boolean {
  if (!pluginType) return false;
  return Object.entries(DEPRECATED_OPTIONS).some(([glob, keys]) =>
    keys.includes(key) && globMatch(glob, pluginType)
  );
}

/** Packer's glob: `*` matches any run of characters, everything else itself. */
function globMatch(glob: string, s: string): boolean {
  const parts = glob.split("*");
  if (parts.length === 1) return glob === s;
  if (!s.startsWith(parts[0]) || !s.endsWith(parts[parts.length - 1])) return false;
  let at = parts[0].length;
  const end = s.length - parts[parts.length - 1].length;
  for (const part of parts.slice(1, -1)) {
    const i = s.indexOf(part, at);
    if (i < 0 || i + part.length > end) return false;
    at = i + part.length;
  }
  return at <= end;
}
