/**
 * Windows paths on a Linux test server: `C:\Windows\Temp\x` lives at
 * `<root>/C/Windows/Temp/x`. Environment references (`%TEMP%`,
 * `$env:TEMP`) are expanded first; a relative path is taken from the
 * user's profile directory, where a WinRS shell starts.
 */

/** The environment a fresh WinRS shell sees (PATH stays the host's, for /bin/sh). */
export function windowsEnvironment(user: string): Record<string, string> {
  return {
    COMPUTERNAME: "KILN-WINRM",
    USERNAME: user,
    USERPROFILE: `C:\\Users\\${user}`,
    HOMEDRIVE: "C:",
    HOMEPATH: `\\Users\\${user}`,
    SystemDrive: "C:",
    SystemRoot: "C:\\Windows",
    windir: "C:\\Windows",
    TEMP: "C:\\Windows\\Temp",
    TMP: "C:\\Windows\\Temp",
    ProgramFiles: "C:\\Program Files",
  };
}

function lookup(env: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(env).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : env[key];
}

/** Maps `windowsPath` to a path under `root`. */
export function localPath(root: string, windowsPath: string, env: Record<string, string>): string {
  let path = windowsPath.trim().replace(/^"(.*)"$/, "$1")
    .replace(/%([^%]+)%/g, (whole, name) => lookup(env, name) ?? whole)
    .replace(/\$env:([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name) => lookup(env, name) ?? whole)
    .replaceAll("\\", "/");
  if (!/^[A-Za-z]:/.test(path)) {
    const home = (lookup(env, "USERPROFILE") ?? "C:\\Users\\Default").replaceAll("\\", "/");
    path = path.startsWith("/") ? `C:${path}` : `${home}/${path}`;
  }
  const drive = path[0].toUpperCase();
  const parts: string[] = [];
  for (const part of path.slice(2).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop(); // never above the drive, as on Windows
    else parts.push(part);
  }
  return [root.replace(/\/+$/, ""), drive, ...parts].join("/");
}
