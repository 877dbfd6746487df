/** Running a command on the build instance from a step (bundle, upload, key cleanup). */
import type { StepContext } from "../../runtime/types.ts";
import type { Communicator } from "../../communicators/communicator.ts";
import { ensureCommunicator } from "../common/connect.ts";
import { awsConnectOptions } from "./connect_options.ts";

/** The open connection to the instance, reopened after a resume. */
export function instanceComm(ctx: StepContext): Promise<Communicator> {
  return ensureCommunicator(ctx, awsConnectOptions);
}

/** Runs `command` over the build's communicator, streaming output to the UI; returns the exit status. */
export async function runRemote(ctx: StepContext, command: string): Promise<number> {
  const comm = await instanceComm(ctx);
  const decoder = new TextDecoder();
  const lines = (stream: (s: string) => void) => {
    let pending = "";
    return (chunk: Uint8Array) => {
      pending += decoder.decode(chunk, { stream: true });
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const line of parts) stream(line.replace(/\r$/, ""));
    };
  };
  const { exitStatus } = await comm.start({
    command,
    stdout: lines((l) => ctx.ui.message(l)),
    stderr: lines((l) => ctx.ui.error(l)),
    signal: ctx.signal,
  });
  return exitStatus;
}
