/**
 * Packer's Prepare for the qemu options: defaults (several derived from the
 * build's name or from other options), normalisation and the checks Packer
 * makes, in its words. `qemuDefaults` runs before the shared pieces (the ISO
 * checks must see `iso_skip_cache`'s "none"), `qemuChecks` after them.
 */
import { join } from "node:path";
import type { BuildContext } from "../../template/schema.ts";
import { zeroDefault } from "../common/zero.ts";
import {
  ACCELERATORS,
  DETECT_ZEROES,
  DISK_CACHES,
  DISK_DISCARDS,
  DISK_INTERFACES,
} from "../../steps/qemu/config.ts";

type Report = (key: string, message: string) => void;

/** Packer's disk_size when none (or "0") is given. */
export const DEFAULT_DISK_SIZE = "40960M";

/** OVMF files Packer uses when EFI boot is on and none are named. */
export const DEFAULT_OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd";
/** See DEFAULT_OVMF_CODE. */
export const DEFAULT_OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd";

function oneOf(
  config: Record<string, unknown>,
  key: string,
  allowed: readonly string[],
  packerMessage: string,
  report: Report,
) {
  const value = String(config[key]);
  if (!allowed.includes(value)) {
    report(
      key,
      `${packerMessage}: ${JSON.stringify(value)} (expected one of ${allowed.join(", ")})`,
    );
  }
}

/** Defaults and normalisation that precede the shared pieces' checks (Packer's order). */
export function qemuDefaults(
  config: Record<string, unknown>,
  report: Report,
  build: BuildContext,
): void {
  const size = String(config.disk_size ?? "");
  if (size === "" || size === "0") config.disk_size = DEFAULT_DISK_SIZE;
  else if (!/^\d+[bkmgt]?$/.test(size.toLowerCase())) {
    report(
      "disk_size",
      `Invalid disk size. Expected a number of megabytes or one with a unit b, k, M, G or T ` +
        `("10240", "10G"), got ${JSON.stringify(size)}`,
    );
  } else if (/^\d+$/.test(size)) config.disk_size = `${size}M`;

  zeroDefault(config, "disk_cache", "writeback");
  zeroDefault(config, "disk_discard", "ignore");
  zeroDefault(config, "disk_detect_zeroes", "off");
  // An empty accelerator stays empty: "kvm if usable, else tcg" is probed at run time.
  zeroDefault(config, "machine_type", "pc");
  zeroDefault(config, "output_directory", `output-${build.name}`);
  zeroDefault(config, "qemu_binary", "qemu-system-x86_64");
  if (Number(config.memory ?? 0) < 10) config.memory = 512;
  zeroDefault(config, "vnc_bind_address", "127.0.0.1");
  zeroDefault(config, "vnc_port_min", 5900);
  zeroDefault(config, "vnc_port_max", 6000);
  zeroDefault(config, "vm_name", `packer-${build.name}`);
  zeroDefault(config, "format", "qcow2");
  zeroDefault(config, "tpm_device_type", "tpm-tis");
  if (config.efi_firmware_code || config.efi_firmware_vars) config.efi_boot = true;
  if (config.efi_boot === true) {
    zeroDefault(config, "efi_firmware_code", DEFAULT_OVMF_CODE);
    zeroDefault(config, "efi_firmware_vars", DEFAULT_OVMF_VARS);
  }
  zeroDefault(config, "net_device", "virtio-net");
  zeroDefault(config, "disk_interface", "virtio");
  if (config.iso_skip_cache === true) config.iso_checksum = "none";
}

/** The checks and derived settings that follow the shared pieces (Packer's order). */
export function qemuChecks(
  config: Record<string, unknown>,
  report: Report,
  build: BuildContext,
): void {
  if (config.format !== "qcow2" && config.format !== "raw") {
    report(
      "format",
      `invalid format, only 'qcow2' or 'raw' are allowed, got ${JSON.stringify(config.format)}`,
    );
  }
  if (config.format !== "qcow2") {
    config.skip_compaction = true;
    config.disk_compression = false;
  }
  if (config.use_backing_file === true) {
    config.skip_compaction = true;
    if (!(config.disk_image === true && config.format === "qcow2")) {
      report(
        "use_backing_file",
        "use_backing_file can only be enabled for QCOW2 images and when disk_image is true",
      );
    }
  }
  if (config.skip_resize_disk === true && config.disk_image !== true) {
    report("skip_resize_disk", "skip_resize_disk can only be used when disk_image is true");
  }
  if (config.accelerator) {
    oneOf(
      config,
      "accelerator",
      ACCELERATORS,
      "invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', 'hvf', 'whpx', or 'none' are allowed",
      report,
    );
  }
  oneOf(config, "disk_interface", DISK_INTERFACES, "unrecognized disk interface type", report);
  oneOf(config, "disk_cache", DISK_CACHES, "unrecognized disk cache type", report);
  oneOf(config, "disk_discard", DISK_DISCARDS, "unrecognized disk discard type", report);
  oneOf(
    config,
    "disk_detect_zeroes",
    DETECT_ZEROES,
    "unrecognized disk detect zeroes setting",
    report,
  );
  for (const key of ["cpus", "sockets", "cores", "threads"]) {
    if (Number(config[key] ?? 0) < 0) report(key, `${key} must be a positive number`);
  }
  const output = String(config.output_directory);
  if (!build.force && exists(output)) {
    report(
      "output_directory",
      `Output directory '${output}' already exists. It must not exist. (With -force, kiln ` +
        "build replaces it.)",
    );
  }
  const vncMin = Number(config.vnc_port_min);
  const vncMax = Number(config.vnc_port_max);
  if (vncMin < 5900) report("vnc_port_min", "vnc_port_min cannot be below 5900");
  if (vncMin > 65535 || vncMax > 65535) {
    report(
      vncMin > 65535 ? "vnc_port_min" : "vnc_port_max",
      "vnc_port_min and vnc_port_max must both be below 65535 to be valid TCP ports",
    );
  }
  if (vncMin > vncMax) report("vnc_port_min", "vnc_port_min must be less than vnc_port_max");
  if (config.net_bridge && Deno.build.os !== "linux") {
    report("net_bridge", "net_bridge is only supported in Linux based OSes");
  }
  const command = (config.boot_command as string[] | undefined) ?? [];
  const steps = (config.boot_steps as string[][] | undefined) ?? [];
  if (command.length > 0 && steps.length > 0) {
    report("boot_steps", "boot_command and boot_steps cannot be used together");
  }
  if (config.net_bridge || config.vnc_use_password === true) config.qmp_enable = true;
  if (config.qmp_enable === true && !config.qmp_socket_path) {
    config.qmp_socket_path = join(output, `${config.vm_name}.monitor`);
  }
  config.qemuargs ??= [];
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
