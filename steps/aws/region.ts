/**
 * The build region when the template gives none, found where the AWS SDKs
 * and Packer look: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the `region` of
 * the profile (`profile`, `AWS_PROFILE` or `default`) in the shared config
 * file (`AWS_CONFIG_FILE` or ~/.aws/config). Read synchronously and without
 * the SDK, so every step and handler names the same region for the ledger.
 */

/** The region of `profile` in an INI shared config text, or "". */
export function profileRegion(text: string, profile: string): string {
  const wanted = profile === "default" ? ["default", "profile default"] : [`profile ${profile}`];
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      inSection = wanted.includes(section[1].replace(/\s+/g, " "));
      continue;
    }
    const pair = /^region\s*=\s*(\S+)/.exec(line);
    if (inSection && pair) return pair[1];
  }
  return "";
}

function sharedConfigRegion(profile: string): string {
  const home = Deno.env.get("HOME") ?? "";
  const path = Deno.env.get("AWS_CONFIG_FILE") || (home ? `${home}/.aws/config` : "");
  if (!path) return "";
  try {
    return profileRegion(Deno.readTextFileSync(path), profile);
  } catch {
    return ""; // no shared config file: nothing to read
  }
}

/** The build region of a decoded amazon config, or "" when nothing names one. */
export function regionOf(config: Record<string, unknown>): string {
  const profile = String(config.profile ?? "") || Deno.env.get("AWS_PROFILE") || "default";
  return String(config.region ?? "") || Deno.env.get("AWS_REGION") ||
    Deno.env.get("AWS_DEFAULT_REGION") || sharedConfigRegion(profile);
}

/** The build region, or a clear error saying where it may be set. */
export function requireRegion(config: Record<string, unknown>): string {
  const region = regionOf(config);
  if (!region) {
    throw new Error(
      'No AWS region: set "region" in the builder, AWS_REGION or AWS_DEFAULT_REGION, or a ' +
        "region for the profile in the shared config file (~/.aws/config)",
    );
  }
  return region;
}
