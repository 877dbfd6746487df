/**
 * The qemu builder's step list — THE place the steps go (steps/qemu/*.ts),
 * in Packer's order: prepare output dir, download ISO, floppy/CD, create or
 * copy disk, resize, HTTP server, port forward, configure VNC/QMP, run,
 * boot wait + boot command, connect, provision, shutdown, convert disk.
 *
 * Until they exist, a qemu build validates and fails at its first step with
 * a clear message, after which nothing is left behind (it created nothing).
 */
import type { Step } from "../../runtime/types.ts";
import type { BuildInfo } from "../builder.ts";
import type { QemuConfig } from "./config.ts";

/** Step id of the placeholder that stands for the steps to come. */
export const QEMU_NOT_YET_STEP_ID = "qemu.not_yet";

/** The steps of one qemu build, for its prepared, typed config. */
export function qemuSteps(_config: QemuConfig, _build: BuildInfo): Step[] {
  return [{
    id: QEMU_NOT_YET_STEP_ID,
    run() {
      return Promise.reject(
        new Error(
          "the qemu builder's steps are not there yet: this kiln validates qemu templates " +
            "but cannot build them",
        ),
      );
    },
  }];
}
