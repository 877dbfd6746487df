/**
 * The qemu builder's artifact, as Packer's: every file of the output
 * directory, the VM name as id, and the disk's name, format, size and the
 * accelerator for later post-processors.
 */
import { join, relative } from "node:path";
import type { Artifact } from "../../runtime/types.ts";
import type { OutputDirOutput, RunOutput } from "../../steps/qemu/outputs.ts";
import { QEMU_STEP } from "../../steps/qemu/outputs.ts";
import { EFI_VARS_NAME } from "../../steps/qemu/disk.ts";
import { qemuConfig } from "./config.ts";

/** Packer's artifact id for this builder. */
export const QEMU_BUILDER_ID = "transcend.qemu";

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out.sort();
}

/** The artifact of a finished qemu build (undefined before its output directory exists). */
export function qemuArtifact(
  state: Readonly<Record<string, unknown>>,
  config: Record<string, unknown>,
): Artifact | undefined {
  const out = state[QEMU_STEP.outputDir] as OutputDirOutput | undefined;
  if (!out) return undefined;
  const c = qemuConfig(config);
  const shown = String(c.output_directory);
  let files: string[];
  try {
    files = filesUnder(out.dir)
      .filter((f) => !(c.efi_drop_efivars && f === join(out.dir, EFI_VARS_NAME)))
      .map((f) => join(shown, relative(out.dir, f)));
  } catch {
    files = [];
  }
  const run = state[QEMU_STEP.run] as RunOutput | undefined;
  return {
    builderId: QEMU_BUILDER_ID,
    id: c.vm_name,
    files,
    description: `VM files in directory: ${shown}`,
    state: {
      diskName: c.vm_name,
      diskType: c.format,
      diskSize: c.disk_size,
      domainType: run?.accelerator ?? c.accelerator ?? "",
    },
  };
}
