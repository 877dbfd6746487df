/**
 * The disks, in the output directory (so the output directory's ledger
 * entry covers them): with an ISO, an empty disk of `disk_size`; with
 * `disk_image`, a copy of the image (or, with `use_backing_file`, a qcow2
 * overlay on it), grown to `disk_size` unless `skip_resize_disk`. Then one
 * empty disk per `disk_additional_size`, and with `efi_boot` this build's
 * copy of the OVMF variables. Names are Packer's: `<vm_name>`,
 * `<vm_name>-1`, ..., `efivars.fd`. A step interrupted by a crash starts
 * over: its half-made files are removed first.
 */
import { join } from "node:path";
import type { Step, StepContext } from "../../runtime/types.ts";
import { convertImage, createImage, resizeImage } from "../../hypervisors/qemu/img.ts";
import type { QemuConfig } from "./config.ts";
import {
  type DiskOutput,
  type OutputDirOutput,
  outputOf,
  QEMU_STEP,
  type SourceOutput,
} from "./outputs.ts";

/** Packer's name of this build's copy of the OVMF variables. */
export const EFI_VARS_NAME = "efivars.fd";

/** The disk files of a build, the main one first. */
export function diskPaths(c: QemuConfig, outputDir: string): string[] {
  return [
    join(outputDir, c.vm_name),
    ...c.disk_additional_size.map((_, i) => join(outputDir, `${c.vm_name}-${i + 1}`)),
  ];
}

async function removeIfThere(path: string): Promise<void> {
  await Deno.remove(path).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}

async function mainDisk(ctx: StepContext, c: QemuConfig, path: string): Promise<void> {
  const img = { signal: ctx.signal };
  if (!c.disk_image) {
    ctx.ui.say(`Creating required virtual machine disks`);
    await createImage(path, {
      ...img,
      format: c.format,
      size: c.disk_size,
      extraArgs: c.qemu_img_args.create,
    });
    return;
  }
  const source = outputOf<SourceOutput>(ctx, QEMU_STEP.source).path;
  if (c.use_backing_file) {
    ctx.ui.say(`Creating a qcow2 overlay backed by ${source}`);
    await createImage(path, {
      ...img,
      format: c.format,
      backingFile: source,
      extraArgs: c.qemu_img_args.create,
    });
  } else {
    ctx.ui.say(`Copying hard drive ${source} to ${path}`);
    await convertImage(source, path, { ...img, format: c.format });
  }
  if (c.skip_resize_disk) return;
  ctx.ui.say(`Resizing hard drive to ${c.disk_size}`);
  await resizeImage(path, c.disk_size, {
    ...img,
    format: c.format,
    extraArgs: c.qemu_img_args.resize,
  });
}

/** Makes the build's disks. */
export function diskStep(): Step<DiskOutput> {
  return {
    id: QEMU_STEP.disk,
    async run(ctx) {
      const c = ctx.config as unknown as QemuConfig;
      const { dir } = outputOf<OutputDirOutput>(ctx, QEMU_STEP.outputDir);
      const disks = diskPaths(c, dir);
      const efiVars = c.efi_boot ? join(dir, EFI_VARS_NAME) : undefined;
      // Left by an attempt of this run that was interrupted (the directory is the run's).
      for (const path of [...disks, ...(efiVars ? [efiVars] : [])]) await removeIfThere(path);
      await mainDisk(ctx, c, disks[0]);
      for (const [i, size] of c.disk_additional_size.entries()) {
        await createImage(disks[i + 1], {
          signal: ctx.signal,
          format: c.format,
          size: /^\d+$/.test(size) ? `${size}M` : size,
          extraArgs: c.qemu_img_args.create,
        });
      }
      if (efiVars) {
        const vars = String(c.efi_firmware_vars);
        await Deno.copyFile(vars, efiVars).catch((err) => {
          throw new Error(`efi_firmware_vars ${vars}: ${err instanceof Error ? err.message : err}`);
        });
      }
      return { disks, ...(efiVars ? { efiVars } : {}) };
    },
  };
}
