/**
 * Packer 1.6.6's fixers that rewrite builders, each as Packer's does it
 * (which builder types it touches, which value types it leaves alone, what
 * it writes back: `"builders": null` when there were none, as Packer).
 * Types kiln has no builder for (virtualbox, vmware, parallels, hyperv, ...)
 * are rewritten all the same: the rewrite is pure JSON.
 */
import {
  builderMaps,
  eachBuilder,
  FixError,
  isObject,
  type Json,
  rename,
  weakList,
} from "./shapes.ts";

/** One of Packer's fixers. */
export interface Fixer {
  /** Packer's name for it (`packer fix -h` lists them in order). */
  name: string;
  /** Packer's one-line description. */
  synopsis: string;
  /** Rewrites the template in place; throws FixError where Packer's fixer errors. */
  fix(input: Json): void;
}

/** A fixer over each builder object; the builder list is written back as Packer does. */
function perBuilder(
  name: string,
  synopsis: string,
  fixOne: (b: Json, type: string | undefined) => void,
): Fixer {
  return {
    name,
    synopsis,
    fix(input) {
      const list = builderMaps(input);
      for (const b of eachBuilder(list)) {
        fixOne(b, typeof b.type === "string" ? b.type : undefined);
      }
      input.builders = list;
    },
  };
}

const isAmazon = (t: string | undefined) => t !== undefined && t.startsWith("amazon-");
const CREATE_TIME = /\{\{[\t\n\f\r ]*\.CreateTime[\t\n\f\r ]*\}\}/g;
const CLEAN_NAME = /clean_(image|ami)_name/g;
const stringOr = (v: unknown) => typeof v === "string" ? v : "";

/** Go's strconv.ParseBool. */
function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

const isoMd5 = perBuilder(
  "iso-md5",
  `Replaces "iso_md5" in builders with "iso_checksum"`,
  (b) => {
    if (typeof b.iso_md5 !== "string") return;
    b.iso_checksum = b.iso_md5;
    b.iso_checksum_type = "md5";
    delete b.iso_md5;
  },
);

const createTime = perBuilder(
  "createtime",
  `Replaces ".CreateTime" in builder configs with "{{timestamp}}"`,
  (b) => {
    for (const key of ["ami_name", "bundle_prefix", "snapshot_name"]) {
      const v = b[key];
      if (typeof v === "string") b[key] = v.replace(CREATE_TIME, "{{timestamp}}");
    }
  },
);

const virtualboxGaAttach = perBuilder(
  "virtualbox-gaattach",
  `Updates VirtualBox builders using "guest_additions_attach" to use "guest_additions_mode"`,
  (b, type) => {
    if (type !== "virtualbox" || typeof b.guest_additions_attach !== "boolean") return;
    b.guest_additions_mode = b.guest_additions_attach ? "attach" : "upload";
    delete b.guest_additions_attach;
  },
);

/** Also renames provisioners' `override.virtualbox`. */
const virtualboxRename: Fixer = {
  name: "virtualbox-rename",
  synopsis: `Updates "virtualbox" builders to "virtualbox-iso"`,
  fix(input) {
    const builders = weakList(input.builders);
    for (const b of builders) {
      if (isObject(b) && b.type === "virtualbox") b.type = "virtualbox-iso";
    }
    const provisioners = weakList(input.provisioners);
    provisioners.forEach((p, i) => {
      if (!isObject(p) || !Object.hasOwn(p, "override")) return;
      const override = p.override;
      if (override === null || (Array.isArray(override) && override.length === 0)) return;
      if (!isObject(override)) {
        throw new FixError(
          `provisioners[${i}].override`,
          "expected an object of builder name → options",
        );
      }
      rename(override, "virtualbox", "virtualbox-iso");
    });
    if (builders.length > 0) input.builders = builders;
    if (provisioners.length > 0) input.provisioners = provisioners;
  },
};

const vmwareRename = perBuilder(
  "vmware-rename",
  `Updates "vmware" builders to "vmware-iso"`,
  (b, type) => {
    if (type === "vmware") b.type = "vmware-iso";
  },
);

const parallels = (t: string | undefined) => t === "parallels-iso" || t === "parallels-pvm";

const parallelsHeadless = perBuilder(
  "parallels-headless",
  `Removes unused "headless" from Parallels builders`,
  (b, type) => {
    if (parallels(type)) delete b.headless;
  },
);

const parallelsDeprecations = perBuilder(
  "parallels-deprecations",
  `Removes deprecated "parallels_tools_host_path" from Parallels builders and changes "guest_os_distribution" to "guest_os_type".`,
  (b, type) => {
    if (!parallels(type)) return;
    delete b.parallels_tools_host_path;
    rename(b, "guest_os_distribution", "guest_os_type");
  },
);

/** `from` → `to` when `from` has the type; an existing `to` wins, `from` is dropped. */
function preferNew(b: Json, from: string, to: string, kind: "string" | "boolean"): void {
  const v = b[from];
  if (kind === "string" ? typeof v !== "string" : typeof v !== "boolean") return;
  if (!Object.hasOwn(b, to)) b[to] = b[from];
  delete b[from];
}

const sshKeyPath = perBuilder(
  "sshkeypath",
  `Updates builders using "ssh_key_path" to use "ssh_private_key_file"`,
  (b) => preferNew(b, "ssh_key_path", "ssh_private_key_file", "string"),
);

const sshDisableAgent = perBuilder(
  "sshdisableagent",
  `Updates builders using "ssh_disable_agent" to use "ssh_disable_agent_forwarding"`,
  (b) => preferNew(b, "ssh_disable_agent", "ssh_disable_agent_forwarding", "boolean"),
);

const scalewayAccessKey = perBuilder(
  "scaleway-access-key",
  `Updates builders using "access_key" to use "organization_id"`,
  (b, type) => {
    if (type === "scaleway") preferNew(b, "access_key", "organization_id", "string");
  },
);

const amazonShutdownBehavior = perBuilder(
  "amazon-shutdown_behavior",
  `Changes "shutdown_behaviour" to "shutdown_behavior" in Amazon builders.`,
  (b, type) => {
    if (isAmazon(type)) rename(b, "shutdown_behaviour", "shutdown_behavior");
  },
);

const amazonEnhancedNetworking = perBuilder(
  "amazon-enhanced-networking",
  `Replaces "enhanced_networking" in builders with "ena_support"`,
  (b, type) => {
    if (!isAmazon(type) || typeof b.enhanced_networking !== "boolean") return;
    rename(b, "enhanced_networking", "ena_support");
  },
);

const amazonPrivateIp = perBuilder(
  "amazon-private-ip",
  'Replaces `"ssh_private_ip": true` in amazon builders with `"ssh_interface": "private_ip"`',
  (b, type) => {
    if (!isAmazon(type) || Object.hasOwn(b, "ssh_interface")) return;
    if (!Object.hasOwn(b, "ssh_private_ip")) return;
    const raw = b.ssh_private_ip;
    const on = typeof raw === "boolean"
      ? raw
      : typeof raw === "string"
      ? parseGoBool(raw)
      : undefined;
    if (on === undefined) {
      throw new FixError(
        "ssh_private_ip",
        `ssh_private_ip is not a boolean: expected true or false, got ${JSON.stringify(raw)}`,
      );
    }
    delete b.ssh_private_ip;
    b.ssh_interface = on ? "private_ip" : "public_ip";
  },
);

const amazonTempSecCidrs = perBuilder(
  "amazon-temp-sec-cidrs",
  `Replaces "temporary_security_group_source_cidr" (string) with "temporary_security_group_source_cidrs" (list of strings)`,
  (b, type) => {
    const cidr = b.temporary_security_group_source_cidr;
    if (!isAmazon(type) || typeof cidr !== "string") return;
    delete b.temporary_security_group_source_cidr;
    b.temporary_security_group_source_cidrs = [cidr];
  },
);

const vmwareCompaction = perBuilder(
  "vmware-compaction",
  `Adds "skip_compaction = true" to "vmware-iso" builders with incompatible disk_type_id`,
  (b, type) => {
    if (type !== "vmware-iso" || b.remote_type !== "esx5") return;
    if (!Object.hasOwn(b, "disk_type_id")) b.disk_type_id = "zeroedthick";
    else if (typeof b.disk_type_id !== "string" || b.disk_type_id === "thin") return;
    if (Object.hasOwn(b, "skip_compaction")) {
      if (b.skip_compaction === false) b.skip_compaction = true;
      return;
    }
    b.skip_compaction = true;
  },
);

const hypervDeprecations = perBuilder(
  "hyperv-deprecations",
  `Removes the deprecated "vhd_temp_path" setting from Hyper-V ISO builder templates`,
  (b, type) => {
    if (type === "hyperv-iso") delete b.vhd_temp_path;
  },
);

const hypervVmxcTypo = perBuilder(
  "hyperv-vmxc-typo",
  `Fixes a typo replacing "clone_from_vmxc_path" with "clone_from_vmcx_path" in Hyper-V VMCX builder templates`,
  (b, type) => {
    if (type === "hyperv-vmcx") rename(b, "clone_from_vmxc_path", "clone_from_vmcx_path");
  },
);

const hypervCpuAndRam = perBuilder(
  "hyperv-cpu-and-ram",
  `Replaces "cpu" with "cpus" and "ram_size" with "memory"in Hyper-V VMCX builder templates`,
  (b, type) => {
    if (type !== "hyperv-vmcx" && type !== "hyperv-iso") return;
    rename(b, "cpu", "cpus");
    rename(b, "ram_size", "memory");
  },
);

/** Every string option, and the strings one level inside object options. */
const cleanImageName = perBuilder(
  "clean-image-name",
  `Replaces /clean_(image|ami)_name/ in builder configs with "clean_resource_name"`,
  (b) => {
    for (const [key, v] of Object.entries(b)) {
      if (typeof v === "string") b[key] = v.replace(CLEAN_NAME, "clean_resource_name");
      else if (isObject(v)) {
        for (const [k, s] of Object.entries(v)) {
          if (typeof s === "string") v[k] = s.replace(CLEAN_NAME, "clean_resource_name");
        }
      } else if (key === "image_labels") {
        // Packer's fixer panics here; kiln says what it expected.
        throw new FixError("image_labels", "expected an object of label → value");
      }
    }
  },
);

const SPOT_BUILDERS = ["amazon-ebs", "amazon-ebssurrogate", "amazon-ebsvolume", "amazon-instance"];

const spotPriceAutoProduct = perBuilder(
  "spot-price-auto-product",
  `Removes the deprecated "spot_price_auto_product" setting from Amazon builder templates`,
  (b, type) => {
    if (type !== undefined && SPOT_BUILDERS.includes(type)) delete b.spot_price_auto_product;
  },
);

const qemuDiskSize = perBuilder(
  "qemu-disk-size",
  `Updates "disk_size" from int to string in QEMU builders.`,
  (b, type) => {
    if (type === "qemu" && typeof b.disk_size === "number") {
      b.disk_size = `${Math.trunc(b.disk_size)}M`;
    }
  },
);

/** A builder list decoded weakly, each map fixed; written back only when not empty. */
function perBuilderWeak(
  name: string,
  synopsis: string,
  fixOne: (b: Json, index: number) => void,
): Fixer {
  return {
    name,
    synopsis,
    fix(input) {
      const list = weakList(input.builders);
      list.forEach((b, i) => {
        if (isObject(b)) fixOne(b, i);
      });
      if (list.length > 0) input.builders = list;
    },
  };
}

/** An existing new key wins and the old one is dropped; else old → new when `ok(value)`. */
function renameUnlessPresent(b: Json, from: string, to: string, ok = (_v: unknown) => true) {
  if (Object.hasOwn(b, to)) delete b[from];
  else if (Object.hasOwn(b, from) && ok(b[from])) rename(b, from, to);
}

const commConfig = perBuilderWeak(
  "comm-config",
  "Remove ssh prefixes from communicator port forwarding configuration (host_port_min, host_port_max, skip_nat_mapping)",
  (b, i) => {
    if (typeof b.type !== "string") {
      // Packer's fixer crashes on a builder without a string type.
      throw new FixError(`builders[${i}].type`, "expected the builder's type (a string)");
    }
    if (!b.type.startsWith("virtualbox")) return;
    renameUnlessPresent(b, "ssh_host_port_min", "host_port_min");
    renameUnlessPresent(b, "ssh_host_port_max", "host_port_max");
    renameUnlessPresent(
      b,
      "ssh_skip_nat_mapping",
      "skip_nat_mapping",
      (v) => typeof v === "boolean",
    );
  },
);

const sshWaitTimeout = perBuilderWeak(
  "ssh-wait-timeout",
  `Replaces "ssh_wait_timeout" with "ssh_timeout"`,
  (b) => renameUnlessPresent(b, "ssh_wait_timeout", "ssh_timeout", (v) => typeof v === "string"),
);

const vsphereNetworkDisk = perBuilder(
  "vsphere-iso-net-disk",
  `Removes deprecated network and disk fields from "vsphere-iso" builder`,
  (b, type) => {
    if (type !== "vsphere-iso") return;
    const nic: Json = {};
    let hasNetwork = false;
    for (
      const [from, to] of [["network", "network"], ["networkCard", "network_card"], [
        "network_card",
        "network_card",
      ]]
    ) {
      if (!Object.hasOwn(b, from)) continue;
      nic[to] = b[from];
      delete b[from];
      hasNetwork = true;
    }
    if (hasNetwork) b.network_adapters = [nic, ...existingList(b, "network_adapters")];
    const disk: Json = {};
    let hasStorage = false;
    for (const key of ["disk_size", "disk_thin_provisioned", "disk_eagerly_scrub"]) {
      if (!Object.hasOwn(b, key)) continue;
      disk[key] = b[key];
      delete b[key];
      hasStorage = true;
    }
    if (hasStorage) b.storage = [disk, ...existingList(b, "storage")];
  },
);

function existingList(b: Json, key: string): unknown[] {
  if (!Object.hasOwn(b, key)) return [];
  const v = b[key];
  // Packer's fixer crashes on anything but a list here.
  if (!Array.isArray(v)) throw new FixError(key, "expected an array");
  return v;
}

const isoChecksumTypeAndUrl = perBuilder(
  "iso-checksum-type-and-url",
  `Puts content of potential "iso_checksum_url" and "iso_checksum_url" in "iso_checksum"`,
  (b) => {
    const url = stringOr(b.iso_checksum_url);
    const type = stringOr(b.iso_checksum_type);
    let checksum = stringOr(b.iso_checksum);
    delete b.iso_checksum_url;
    delete b.iso_checksum_type;
    if (checksum === "" && url === "") return;
    if (url !== "") checksum = `file:${url}`;
    else if (type !== "") checksum = `${type}:${checksum}`;
    b.iso_checksum = checksum;
  },
);

const qemuHostPort = perBuilder(
  "qemu-host-port",
  "Updates ssh_host_port_min and ssh_host_port_max to host_port_min and host_port_max",
  (b, type) => {
    if (type !== "qemu") return;
    rename(b, "ssh_host_port_min", "host_port_min");
    rename(b, "ssh_host_port_max", "host_port_max");
  },
);

const azureExcludeFromLatest = perBuilder(
  "azure-exclude_from_latest",
  `Changes "exlude_from_latest" to "exclude_from_latest" in Azure builders.`,
  (b, type) => {
    if (type === undefined || !type.startsWith("azure-chroot")) return;
    if (isObject(b.shared_image_destination)) {
      rename(b.shared_image_destination, "exlude_from_latest", "exclude_from_latest");
    }
  },
);

const proxmoxType = perBuilder(
  "proxmox-type",
  "Updates the builder type proxmox to proxmox-iso",
  (b, type) => {
    if (type === "proxmox") b.type = "proxmox-iso";
  },
);

/** The fixers of builders, by Packer's name (mod.ts runs them in Packer's order). */
export const BUILDER_FIXERS: Readonly<Record<string, Fixer>> = Object.fromEntries(
  [
    isoMd5,
    createTime,
    virtualboxGaAttach,
    virtualboxRename,
    vmwareRename,
    parallelsHeadless,
    parallelsDeprecations,
    sshKeyPath,
    sshDisableAgent,
    scalewayAccessKey,
    amazonShutdownBehavior,
    amazonEnhancedNetworking,
    amazonPrivateIp,
    amazonTempSecCidrs,
    vmwareCompaction,
    hypervDeprecations,
    hypervVmxcTypo,
    hypervCpuAndRam,
    cleanImageName,
    spotPriceAutoProduct,
    qemuDiskSize,
    commConfig,
    sshWaitTimeout,
    vsphereNetworkDisk,
    isoChecksumTypeAndUrl,
    qemuHostPort,
    azureExcludeFromLatest,
    proxmoxType,
  ].map((f) => [f.name, f]),
);
