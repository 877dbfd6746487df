/**
 * The qemu builder's configuration: every option of Packer's qemu builder
 * (its own, plus the ISO, HTTP, boot, floppy, CD, shutdown and communicator
 * ones it shares), decoded, defaulted and checked as Packer does, and the
 * typed view (`QemuConfig`) the builder's steps read.
 *
 * Where the current plugin documents an option or a check that Packer 1.6.6
 * lacks, the documents win (e.g. `sockets`, `efi_boot`, `disk_interface`
 * "sata", `vnc_port_min` below 5900 refused).
 */
import { composeSchema, type ConfigSchema } from "../../template/schema.ts";
import { isoConfigSchema } from "../common/iso_config.ts";
import { httpConfigSchema } from "../common/http_config.ts";
import { vncBootConfigSchema } from "../common/boot_config.ts";
import { shutdownConfigSchema } from "../common/shutdown_config.ts";
import { cdConfigSchema, floppyConfigSchema } from "../common/media_config.ts";
import { type ChecksumSpec, parseChecksum } from "../common/checksum.ts";
import { qemuCommSchema } from "./comm_config.ts";
import { qemuFields } from "./fields.ts";
import {
  type ACCELERATORS,
  type DETECT_ZEROES,
  type DISK_CACHES,
  type DISK_DISCARDS,
  type DISK_INTERFACES,
  qemuChecks,
  qemuDefaults,
} from "./prepare.ts";

/** The qemu builder's schema: what `validate` checks and `build` decodes. */
export const qemuSchema: ConfigSchema = composeSchema(
  // Packer's Prepare order: shutdown, own defaults, floppy, CD, boot, ISO, HTTP,
  // communicator, own checks (so messages come in Packer's order).
  shutdownConfigSchema,
  { fields: qemuFields, prepare: qemuDefaults },
  floppyConfigSchema,
  cdConfigSchema,
  vncBootConfigSchema,
  isoConfigSchema,
  httpConfigSchema,
  qemuCommSchema,
  { fields: {}, prepare: qemuChecks },
);

/**
 * A prepared qemu build's options, named as in the template. Every default
 * is applied (`vm_name`, `output_directory`, `qmp_socket_path`, ...),
 * durations are milliseconds, `iso_url` is folded into `iso_urls`.
 * `boot_command`, `boot_steps` and `qemuargs` hold raw template text: the
 * steps render them with `{{ .HTTPIP }}`, `{{ .HTTPPort }}`, `{{ .Name }}`...
 */
export interface QemuConfig {
  // Source
  iso_urls: string[];
  /** "none", "type:hex", bare hex, or "file:<path or URL>" as written. */
  iso_checksum: string;
  iso_target_path?: string;
  /** Lowercase; default "iso". */
  iso_target_extension: string;
  iso_skip_cache: boolean;
  disk_image: boolean;
  use_backing_file: boolean;
  // Disk and output
  /** For qemu-img: digits and a unit ("40960M", "10G"); plain numbers got "M". */
  disk_size: string;
  disk_additional_size: string[];
  skip_resize_disk: boolean;
  disk_interface: (typeof DISK_INTERFACES)[number];
  disk_cache: (typeof DISK_CACHES)[number];
  disk_discard: (typeof DISK_DISCARDS)[number];
  disk_detect_zeroes: (typeof DETECT_ZEROES)[number];
  /** True when the format is raw or a backing file is used (Packer forces it). */
  skip_compaction: boolean;
  disk_compression: boolean;
  format: "qcow2" | "raw";
  qemu_img_args: { convert: string[]; create: string[]; resize: string[] };
  output_directory: string;
  vm_name: string;
  // Machine
  /** Undefined: kvm if it really works here, else tcg (probed at run time). */
  accelerator?: (typeof ACCELERATORS)[number];
  qemu_binary: string;
  machine_type: string;
  cpu_model?: string;
  /** Megabytes. */
  memory: number;
  cpus: number;
  sockets: number;
  cores: number;
  threads: number;
  firmware?: string;
  use_pflash: boolean;
  efi_boot: boolean;
  efi_firmware_code?: string;
  efi_firmware_vars?: string;
  efi_drop_efivars: boolean;
  vtpm: boolean;
  use_tpm1: boolean;
  tpm_device_type: string;
  net_device: string;
  net_bridge?: string;
  cdrom_interface?: string;
  qemuargs: string[][];
  // Control and display
  qmp_enable: boolean;
  /** Set whenever qmp_enable is (default <output_directory>/<vm_name>.monitor). */
  qmp_socket_path?: string;
  headless: boolean;
  display?: string;
  use_default_display: boolean;
  vga?: string;
  vnc_bind_address: string;
  vnc_port_min: number;
  vnc_port_max: number;
  vnc_use_password: boolean;
  vnc_password?: string;
  disable_vnc: boolean;
  // Boot and shutdown (milliseconds)
  /** Default 10000; negative means no wait. */
  boot_wait: number;
  boot_command: string[];
  boot_steps: string[][];
  boot_key_interval?: number;
  boot_keygroup_interval?: number;
  shutdown_command?: string;
  shutdown_timeout: number;
  // HTTP server
  http_directory?: string;
  http_content: Record<string, string>;
  http_port_min: number;
  http_port_max: number;
  http_bind_address: string;
  http_interface?: string;
  http_network_protocol: string;
  // Floppy and CD
  floppy_files: string[];
  floppy_dirs: string[];
  floppy_content: Record<string, string>;
  floppy_label?: string;
  cd_files: string[];
  cd_content: Record<string, string>;
  cd_label?: string;
  // Communicator and its port forward
  communicator: "ssh" | "winrm" | "none";
  host_port_min: number;
  host_port_max: number;
  skip_nat_mapping: boolean;
  /** Every other communicator option (ssh_*, winrm_*), as communicators/config.ts decodes them. */
  [communicatorOption: string]: unknown;

  // Derived facts (not options)
  /** `disk_size` in bytes. */
  diskSizeBytes: number;
  /** `iso_checksum` parsed (a `file:` source is not read: the download step reads it). */
  isoChecksumSpec: ChecksumSpec;
  /** Packer's `-smp` value from cpus, sockets, cores and threads. */
  smp: string;
}

const UNITS: Record<string, number> = { b: 0, k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/**
 * Bytes of a qemu-img size: digits with an optional unit (b ignored; k, M,
 * G, T, P, E are powers of 1024, any case); a bare number is bytes.
 * Undefined when qemu-img would not read it.
 */
export function qemuImgSizeBytes(size: string): number | undefined {
  const m = /^(\d+)([bkmgtpe])?$/i.exec(size);
  if (!m) return undefined;
  return Number(m[1]) * 1024 ** UNITS[(m[2] ?? "b").toLowerCase()];
}

/** Packer's `-smp` argument: the CPU count capped by the topology, then the topology. */
export function smpArgument(
  c: { cpus?: number; sockets?: number; cores?: number; threads?: number },
): string {
  const [cpus, sockets, cores, threads] = [c.cpus, c.sockets, c.cores, c.threads]
    .map((n) => Number(n ?? 0));
  let topology = sockets;
  if (cores > 0 && topology > 0) topology *= cores;
  if (topology === 0) topology = cores;
  if (threads > 0 && topology !== 0) topology *= threads;
  if (topology === 0) topology = threads;
  if (topology === 0 && cpus === 0) return "1";
  let count = cpus === 0 ? topology : cpus;
  if (count > topology && topology !== 0) count = topology;
  let smp = String(count);
  if (sockets > 0) smp += `,sockets=${sockets}`;
  if (cores > 0) smp += `,cores=${cores}`;
  if (threads > 0) smp += `,threads=${threads}`;
  return smp;
}

const FALSE_WHEN_ABSENT = [
  "iso_skip_cache",
  "disk_image",
  "use_backing_file",
  "skip_resize_disk",
  "skip_compaction",
  "disk_compression",
  "use_pflash",
  "efi_boot",
  "efi_drop_efivars",
  "vtpm",
  "use_tpm1",
  "qmp_enable",
  "headless",
  "use_default_display",
  "vnc_use_password",
  "disable_vnc",
  "skip_nat_mapping",
];

const EMPTY_WHEN_ABSENT: Record<string, () => unknown> = {
  disk_additional_size: () => [],
  boot_command: () => [],
  boot_steps: () => [],
  http_content: () => ({}),
  floppy_content: () => ({}),
  cd_content: () => ({}),
};

/**
 * The typed view of a prepared qemu build's config (`PreparedBuild.config`,
 * or a step's `ctx.config`): Packer's zero values filled in where an option
 * was left out, and the derived facts computed.
 */
export function qemuConfig(config: Record<string, unknown>): QemuConfig {
  const c: Record<string, unknown> = { ...config };
  for (const key of FALSE_WHEN_ABSENT) c[key] = c[key] === true;
  for (const [key, empty] of Object.entries(EMPTY_WHEN_ABSENT)) c[key] ??= empty();
  for (const key of ["cpus", "sockets", "cores", "threads"]) c[key] = Number(c[key] ?? 0);
  c.smp = smpArgument(c);
  // The CPU count qemu gets: cpus capped by the topology, or the topology's product.
  c.cpus = Number(String(c.smp).split(",")[0]);
  const imgArgs = (c.qemu_img_args ?? {}) as Record<string, string[] | undefined>;
  c.qemu_img_args = {
    convert: imgArgs.convert ?? [],
    create: imgArgs.create ?? [],
    resize: imgArgs.resize ?? [],
  };
  if (!c.accelerator) delete c.accelerator;
  c.diskSizeBytes = qemuImgSizeBytes(String(c.disk_size)) ?? NaN;
  c.isoChecksumSpec = parseChecksum(String(c.iso_checksum ?? "none"));
  return c as QemuConfig;
}
