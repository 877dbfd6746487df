/**
 * The qemu builder's configuration: every option of Packer's qemu builder
 * (its own, plus the ISO, HTTP, boot, floppy, CD, shutdown and communicator
 * ones it shares), decoded, defaulted and checked as Packer does, and the
 * typed view (`QemuConfig`, extending the steps' own view in
 * steps/qemu/config.ts) the builder reads.
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
import { qemuChecks, qemuDefaults } from "./prepare.ts";
import type { QemuConfig as QemuStepsConfig } from "../../steps/qemu/config.ts";

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
 * A prepared qemu build's options as the builder sees them: the steps' view
 * (steps/qemu/config.ts) and what only the builder reads.
 */
export interface QemuConfig extends QemuStepsConfig {
  /** `iso_checksum` parsed (a `file:` source is not read: the download step reads it). */
  isoChecksumSpec: ChecksumSpec;
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
