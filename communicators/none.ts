/**
 * The `none` communicator: the build has no connection, so every operation
 * is refused with a message that says why and what to change.
 */
import type { Communicator } from "./communicator.ts";
import type { ConnectOptions } from "./mod.ts";

function refuse(what: string): Promise<never> {
  return Promise.reject(
    new Error(
      `cannot ${what}: the build's communicator is "none"; ` +
        `set "communicator": "ssh" (or winrm) on the builder to reach the machine`,
    ),
  );
}

/** A communicator that refuses every call. */
export const noneCommunicator: Communicator = {
  type: "none",
  start: (cmd) => refuse(`run "${cmd.command.slice(0, 60)}"`),
  upload: (dst) => refuse(`upload to ${dst}`),
  uploadDir: (dst) => refuse(`upload a directory to ${dst}`),
  download: (src) => refuse(`download ${src}`),
  downloadDir: (src) => refuse(`download the directory ${src}`),
  close: () => Promise.resolve(),
};

/** Opens the `none` communicator (nothing to connect to). */
export function openNone(_options: ConnectOptions): Promise<Communicator> {
  return Promise.resolve(noneCommunicator);
}
