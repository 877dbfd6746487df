/**
 * Templates aimed at a test listener: a null builder that connects to it
 * over WinRM, for the tests and benchmarks that run whole builds (kiln's and
 * Packer's) against it.
 */
import type { WinrmServer } from "./server.ts";

/** A null builder connecting to `server` with its credentials; `extra` adds or overrides winrm_* options. */
export function nullWinrmBuilder(
  server: WinrmServer,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: "null",
    communicator: "winrm",
    winrm_host: server.host,
    winrm_port: server.port,
    winrm_username: server.username,
    winrm_password: server.password,
    winrm_timeout: "1m",
    ...extra,
  };
}
