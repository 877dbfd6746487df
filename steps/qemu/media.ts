/**
 * The boot media Packer makes for the guest: a floppy from `floppy_files`/
 * `floppy_dirs`/`floppy_content`, a CD from `cd_files`/`cd_content`/
 * `cd_label` (a cloud-init NoCloud seed is a CD labelled `cidata`). They
 * are written into the build's work directory, which the ledger removes
 * with the build; a step interrupted by a crash simply makes them again.
 */
import { join } from "node:path";
import type { Step } from "../../runtime/types.ts";
import { makeCd } from "../../hypervisors/qemu/cd.ts";
import { makeFloppy } from "../../hypervisors/qemu/floppy.ts";
import type { QemuConfig } from "./config.ts";
import { type MediaOutput, outputOf, QEMU_STEP, type WorkspaceOutput } from "./outputs.ts";

async function removeIfThere(path: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}

/** Whether the template puts anything on a floppy. */
export function wantsFloppy(c: QemuConfig): boolean {
  return c.floppy_files.length > 0 || c.floppy_dirs.length > 0 ||
    Object.keys(c.floppy_content).length > 0;
}

/** Whether the template puts anything on a CD. */
export function wantsCd(c: QemuConfig): boolean {
  return c.cd_files.length > 0 || Object.keys(c.cd_content).length > 0;
}

/** Makes the floppy image. */
export function floppyStep(): Step<MediaOutput> {
  return {
    id: QEMU_STEP.floppy,
    async run(ctx) {
      const c = ctx.config as unknown as QemuConfig;
      const { dir } = outputOf<WorkspaceOutput>(ctx, QEMU_STEP.workspace);
      const out = join(dir, "floppy.img");
      const scratch = join(dir, "floppy.d");
      await removeIfThere(scratch);
      ctx.ui.say("Creating floppy disk...");
      const made = await makeFloppy(
        {
          files: c.floppy_files,
          dirs: c.floppy_dirs,
          content: c.floppy_content,
          label: c.floppy_label,
        },
        { out, cwd: Deno.cwd(), scratch },
      );
      for (const warning of made.warnings) ctx.ui.error(`Warning: ${warning}`);
      await removeIfThere(scratch);
      const files = made.entries.map((e) => e.path);
      for (const f of files) ctx.ui.message(`Copied to floppy: ${f}`);
      return { path: out, files };
    },
  };
}

/** Makes the CD image. */
export function cdStep(): Step<MediaOutput> {
  return {
    id: QEMU_STEP.cd,
    async run(ctx) {
      const c = ctx.config as unknown as QemuConfig;
      const { dir } = outputOf<WorkspaceOutput>(ctx, QEMU_STEP.workspace);
      const out = join(dir, "cd.iso");
      const staging = join(dir, "cd.d");
      await removeIfThere(staging);
      await removeIfThere(out);
      ctx.ui.say("Creating CD disk...");
      const files = await makeCd(
        { files: c.cd_files, content: c.cd_content, label: c.cd_label },
        { out, staging, cwd: Deno.cwd() },
      );
      await removeIfThere(staging);
      ctx.ui.message(`Done copying paths to CD: ${files.join(", ")}`);
      return { path: out, files };
    },
  };
}
