/** syslinux/isolinux configuration for the guests' boot media. */

/** What the boot loader shows and boots. */
export interface SyslinuxBoot {
  /** Kernel and initramfs paths on the boot medium. */
  kernel: string;
  initrd: string;
  /** Kernel arguments every boot gets. */
  append: string;
  /**
   * Stop at the `boot:` prompt until a line is typed (ISO boot commands);
   * otherwise boot the default entry at once (disks).
   */
  waitForTypedLine: boolean;
  /** Shown above the prompt. */
  banner?: string;
}

/** The label a typed boot line starts with, e.g. `kiln kiln.token=abc`. */
export const bootLabel = "kiln";

/**
 * The config text. `SERIAL 0` mirrors the prompt (and what is typed) on the
 * first serial port, so a test can wait for `boot:` in the serial log before
 * typing; keyboard input still comes from the emulated PS/2 keyboard, as VNC
 * key events do.
 */
export function syslinuxConfig(boot: SyslinuxBoot): string {
  return [
    "SERIAL 0 115200",
    `PROMPT ${boot.waitForTypedLine ? 1 : 0}`,
    // TIMEOUT 0: no timeout, the prompt waits for Enter.
    "TIMEOUT 0",
    `DEFAULT ${bootLabel}`,
    ...(boot.banner ? [`SAY ${boot.banner}`] : []),
    `LABEL ${bootLabel}`,
    `  KERNEL ${boot.kernel}`,
    `  INITRD ${boot.initrd}`,
    `  APPEND ${boot.append}`,
    "",
  ].join("\n");
}
