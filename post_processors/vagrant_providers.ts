/**
 * What goes into a Vagrant box for each provider kiln can feed, from the
 * artifact a builder produced. Packer picks the provider from the artifact's
 * builder id; kiln knows the same table (so `provider_override` accepts the
 * same names) but can make boxes only from the artifacts its builders make:
 * libvirt from qemu disks, aws from AMIs.
 */
import { basename } from "node:path";
import type { Artifact, Ui } from "../runtime/types.ts";

/** Packer's builder id → Vagrant provider table. */
export const PROVIDER_OF_BUILDER: Readonly<Record<string, string>> = {
  "mitchellh.amazonebs": "aws",
  "mitchellh.amazon.instance": "aws",
  "mitchellh.virtualbox": "virtualbox",
  "mitchellh.vmware": "vmware",
  "mitchellh.vmware-esx": "vmware",
  "pearkes.digitalocean": "digitalocean",
  "packer.googlecompute": "google",
  "hashicorp.scaleway": "scaleway",
  "packer.parallels": "parallels",
  "MSOpenTech.hyperv": "hyperv",
  "transcend.qemu": "libvirt",
  "ustream.lxc": "lxc",
  "Azure.ResourceManagement.VMImage": "azure",
  "packer.post-processor.docker-import": "docker",
  "packer.post-processor.docker-tag": "docker",
  "packer.post-processor.docker-push": "docker",
};

/** Every provider name `provider_override` accepts (Packer's list), sorted. */
export const KNOWN_PROVIDERS: readonly string[] = [...new Set(Object.values(PROVIDER_OF_BUILDER))]
  .sort();

/** The provider-made part of a box. */
export interface BoxContents {
  /** Files copied into the box: name in the box → source path (streamed, never read whole). */
  files: Map<string, string>;
  metadata: Record<string, unknown>;
  /** The provider's part of the box's Vagrantfile. */
  vagrantfile: string;
}

/** One provider's way of turning an artifact into box contents. */
export interface VagrantProvider {
  /** Whether the box needs its input to keep existing (an AMI box points at the AMI). */
  keepInput: boolean;
  contents(input: Artifact, ui: Ui): BoxContents;
}

const PROVIDERS: Record<string, VagrantProvider> = {
  libvirt: { keepInput: false, contents: libvirtContents },
  aws: { keepInput: true, contents: awsContents },
};

/** The provider kiln implements for `name`, or why there is none. */
export function providerFor(name: string): VagrantProvider | string {
  return PROVIDERS[name] ??
    `kiln cannot make boxes for the '${name}' provider (it makes them for: ${
      Object.keys(PROVIDERS).sort().join(", ")
    })`;
}

/**
 * A qemu disk size ("40960M", "10G", "512", a bare number being megabytes)
 * in megabytes, as Packer reads it; undefined when it is not one.
 */
export function sizeInMegabytes(size: string): number | undefined {
  const m = /^(\d+)([bkmgtpe]?)$/i.exec(size.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = (m[2] || "m").toLowerCase();
  // Packer divides with integer arithmetic: 1500000 bytes is 1 MiB.
  if (unit === "b") return Math.floor(value / 1024 / 1024);
  if (unit === "k") return Math.floor(value / 1024);
  const power = "mgtpe".indexOf(unit);
  return value * 1024 ** power;
}

/** libvirt's driver for qemu's accelerator (what Packer's box names). */
function libvirtDriver(accelerator: string): string | undefined {
  if (accelerator === "kvm") return "kvm";
  if (["none", "tcg", "hvf"].includes(accelerator)) return "qemu";
  return undefined;
}

function stateString(input: Artifact, key: string): string {
  const v = input.state?.[key];
  if (typeof v !== "string" && typeof v !== "number") {
    throw new Error(
      `the libvirt provider needs a qemu builder's artifact (its disk name, format, size ` +
        `and accelerator); this ${input.builderId} artifact has no ${key}`,
    );
  }
  return String(v);
}

function libvirtContents(input: Artifact, ui: Ui): BoxContents {
  const diskName = stateString(input, "diskName");
  const format = stateString(input, "diskType");
  const diskSize = stateString(input, "diskSize");
  const accelerator = stateString(input, "domainType");
  const mb = sizeInMegabytes(diskSize);
  if (mb === undefined) throw new Error(`Unknown disk size: ${diskSize}`);
  const driver = libvirtDriver(accelerator);
  if (!driver) throw new Error(`Unknown libvirt domain type: ${accelerator}`);
  const disk = input.files.find((f) => basename(f) === diskName);
  // Packer makes a box without a disk here; a box that cannot boot is worse than an error.
  if (!disk) {
    throw new Error(
      `the artifact has no disk named ${diskName} (files: ${input.files.join(", ") || "none"})`,
    );
  }
  ui.message(`Copying from artifact: ${disk}`);
  return {
    files: new Map([["box.img", disk]]),
    // virtual_size is in GiB, rounded up so the box never claims less than the disk.
    metadata: { provider: "libvirt", format, virtual_size: Math.ceil(mb / 1024) },
    vagrantfile: `
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = "${driver}"
  end
end
`,
  };
}

function awsContents(input: Artifact): BoxContents {
  const images = new Map<string, string>();
  for (const pair of input.id.split(",")) {
    const parts = pair.split(":");
    if (parts.length !== 2) throw new Error(`Poorly formatted artifact ID: ${input.id}`);
    images.set(parts[0], parts[1]);
  }
  // The same bytes as Packer's template: regions in order, one region_config each.
  const regions = [...images.keys()].sort().map((region) =>
    `\n\taws.region_config "${region}", ami: "${images.get(region)}"\n\t`
  ).join("");
  return {
    files: new Map(),
    metadata: { provider: "aws" },
    vagrantfile: `
Vagrant.configure("2") do |config|
  config.vm.provider "aws" do |aws|
    ${regions}
  end
end
`,
  };
}
