/**
 * The build's work directory inside the run (`runs/<id>/work/q-<hash>/`):
 * qemu's control socket and log and the boot media live there, because
 * they must outlive the kiln process (a resumed kiln reattaches through
 * the socket) yet are no part of the image. It is a temporary ledger
 * resource: removed when the build ends, or by `kiln cleanup`, after the
 * VM (created later, so stopped first).
 */
import { join } from "node:path";
import type { ResourceHandler, Step, StepContext } from "../../runtime/types.ts";
import { runWorkDir } from "../../runtime/run_temp.ts";
import { localPathHandler, madeRecord } from "../../runtime/local_path_resource.ts";
import { MAX_SOCKET_PATH_BYTES } from "../../hypervisors/qemu/process.ts";
import { QEMU_STEP, type WorkspaceOutput } from "./outputs.ts";

/** The ledger kind of the work directory. */
export const WORKSPACE_KIND = "qemu.workspace";

/** Deletes the work directory (only the one this run made). */
export const workspaceHandler: ResourceHandler = localPathHandler;

/** A short, stable name for a build's directory (build names may be long or odd). */
export function workspaceName(buildName: string): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(buildName)) {
    h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  }
  return `q-${h.toString(16).padStart(8, "0")}`;
}

/** The QMP socket kiln talks to its VM through. */
export function qmpSocketIn(dir: string): string {
  return join(dir, "qmp");
}

function workspaceDir(ctx: StepContext): string {
  const runDir = ctx.runtime?.runDir;
  if (!runDir) throw new Error("the qemu builder needs the run directory (run it through kiln)");
  return join(runWorkDir(runDir), workspaceName(ctx.buildName));
}

/** Makes the work directory; an attempt of this run may have made it already. */
export function workspaceStep(): Step<WorkspaceOutput> {
  const make = async (ctx: StepContext): Promise<WorkspaceOutput> => {
    const dir = workspaceDir(ctx);
    const socketBytes = new TextEncoder().encode(qmpSocketIn(dir)).length;
    if (socketBytes > MAX_SOCKET_PATH_BYTES) {
      throw new Error(
        `the run directory is too deep for qemu's control socket (${
          qmpSocketIn(dir)
        } is ${socketBytes} bytes; unix sockets allow ${MAX_SOCKET_PATH_BYTES}): ` +
          "set KILN_HOME to a shorter path",
      );
    }
    // Inside the run's own 0700 directory: only this run puts anything here.
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const record = await madeRecord(WORKSPACE_KIND, dir, {}, { createdByRun: true });
    if (record) await ctx.created({ ...record, temporary: true });
    return { dir };
  };
  return {
    id: QEMU_STEP.workspace,
    run: make,
    reconcile: (ctx) => make(ctx),
  };
}
