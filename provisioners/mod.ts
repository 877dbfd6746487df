/** Provisioner registry (lazy, like the builder registry). */
import type { ProvisionerPlugin } from "./provisioner.ts";

const loaders: Record<string, () => Promise<ProvisionerPlugin>> = {
  "shell-local": () => import("./shell_local.ts").then((m) => m.shellLocalProvisioner),
  "breakpoint": () => import("./breakpoint.ts").then((m) => m.breakpointProvisioner),
  "sleep": () => import("./sleep.ts").then((m) => m.sleepProvisioner),
  "shell": () => import("./shell.ts").then((m) => m.shellProvisioner),
  "file": () => import("./file.ts").then((m) => m.fileProvisioner),
  "powershell": () => import("./powershell.ts").then((m) => m.powershellProvisioner),
  "windows-shell": () => import("./windows_shell.ts").then((m) => m.windowsShellProvisioner),
  "windows-restart": () => import("./windows_restart.ts").then((m) => m.windowsRestartProvisioner),
  "ansible": () => import("./ansible.ts").then((m) => m.ansibleProvisioner),
  "ansible-local": () => import("./ansible_local.ts").then((m) => m.ansibleLocalProvisioner),
};

/** Provisioner types kiln knows. */
export function provisionerTypes(): string[] {
  return Object.keys(loaders);
}

/** Loads a provisioner by type, or undefined for an unknown type. */
export function loadProvisioner(type: string): Promise<ProvisionerPlugin> | undefined {
  return Object.hasOwn(loaders, type) ? loaders[type]() : undefined;
}

export type { ProvisionContext, ProvisionerPlugin } from "./provisioner.ts";
