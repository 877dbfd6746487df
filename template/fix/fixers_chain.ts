/**
 * Packer 1.6.6's fixers that rewrite provisioners and post-processors, as
 * Packer's do them (see fixers_builders.ts for the builders' ones).
 */
import type { Fixer } from "./fixers_builders.ts";
import {
  builderMaps,
  eachBuilder,
  FixError,
  isObject,
  type Json,
  postProcessorMaps,
  rename,
  weakList,
} from "./shapes.ts";

/** A fixer over each post-processor object; a template without post-processors is left alone. */
function perPostProcessor(name: string, synopsis: string, fixOne: (pp: Json) => void): Fixer {
  return {
    name,
    synopsis,
    fix(input) {
      const pps = postProcessorMaps(input);
      if (pps === undefined) return;
      for (const pp of pps) fixOne(pp);
    },
  };
}

/** A fixer over each provisioner object of a weakly decoded list, written back when not empty. */
function perProvisioner(
  name: string,
  synopsis: string,
  fixOne: (p: Json, index: number) => void,
): Fixer {
  return {
    name,
    synopsis,
    fix(input) {
      const list = weakList(input.provisioners);
      list.forEach((p, i) => {
        if (isObject(p)) fixOne(p, i);
      });
      if (list.length > 0) input.provisioners = list;
    },
  };
}

const VAGRANT_PROVIDERS = ["aws", "digitalocean", "virtualbox", "vmware"];

const vagrantOverride = perPostProcessor(
  "pp-vagrant-override",
  "Fixes provider-specific overrides for Vagrant post-processor",
  (pp) => {
    if (pp.type !== "vagrant") return;
    const overrides: Json = {};
    for (const name of VAGRANT_PROVIDERS) {
      if (!Object.hasOwn(pp, name)) continue;
      overrides[name] = pp[name];
      delete pp[name];
    }
    if (Object.keys(overrides).length > 0) pp.override = overrides;
  },
);

const manifestFilename = perPostProcessor(
  "manifest-filename",
  `Updates "manifest" post-processor so any "filename" field is renamed to "output".`,
  (pp) => {
    if (pp.type === "manifest" && typeof pp.filename === "string") {
      rename(pp, "filename", "output");
    }
  },
);

/** Also checks the builders (Packer's fixer decodes both), and drops `login_email` there. */
const dockerEmail: Fixer = {
  name: "docker-email",
  synopsis: `Removes "login_email" from the Docker builder.`,
  fix(input) {
    if (input["post-processors"] === undefined || input["post-processors"] === null) return;
    const builders = builderMaps(input);
    const pps = postProcessorMaps(input) ?? [];
    for (const b of eachBuilder(builders)) delete b.login_email;
    for (const pp of pps) delete pp.login_email;
    input.builders = builders;
  },
};

function tagList(v: unknown, key: string): string[] {
  if (typeof v === "string") return v.split(",").map((t) => t.trim());
  if (Array.isArray(v)) {
    return v.map((t) => {
      // Packer's fixer crashes on a tag that is not a string.
      if (typeof t !== "string") throw new FixError(key, "expected a list of strings");
      return t;
    });
  }
  return [];
}

const dockerTagTags = perPostProcessor(
  "docker-tag-tags",
  `Updates "docker" post-processor so any "tag" field is renamed to "tags".`,
  (pp) => {
    if (pp.type !== "docker-tag") return;
    const all = [...tagList(pp.tag, "tag"), ...tagList(pp.tags, "tags")];
    delete pp.tag;
    pp.tags = [...new Set(all)];
  },
);

/** PowerShell's escapes (`` `$ `` `` `" `` ``` `` ``` `` `' ``), undone left to right. */
function psUnescape(s: string): string {
  return s.replace(/`([$"`'])/g, "$1");
}

const powershellEscapes = perProvisioner(
  "powershell-escapes",
  "Removes PowerShell escapes from user env vars and elevated username and password strings",
  (p, i) => {
    if (p.type !== "powershell") return;
    for (const key of ["elevated_user", "elevated_password"]) {
      if (!Object.hasOwn(p, key)) continue;
      // Packer's fixer crashes on anything but a string here.
      if (typeof p[key] !== "string") {
        throw new FixError(`provisioners[${i}].${key}`, "expected a string");
      }
      p[key] = psUnescape(p[key] as string);
    }
    const env = p.environment_vars;
    // null decodes to an empty list, which Packer's fixer writes back.
    if (env === null) p.environment_vars = [];
    else if (Array.isArray(env) && env.every((e) => typeof e === "string")) {
      p.environment_vars = env.map(psUnescape);
    }
  },
);

const galaxyCommand = perProvisioner(
  "galaxy-command",
  `Replaces "galaxycommand" in ansible-local provisioner configs with "galaxy_command"`,
  (p) => {
    if (p.type !== "ansible-local") return;
    if (Object.hasOwn(p, "galaxy_command")) delete p.galaxycommand;
    else if (typeof p.galaxycommand === "string") rename(p, "galaxycommand", "galaxy_command");
  },
);

/** The fixers of provisioners and post-processors, by Packer's name (mod.ts runs them in Packer's order). */
export const CHAIN_FIXERS: Readonly<Record<string, Fixer>> = Object.fromEntries(
  [vagrantOverride, manifestFilename, dockerEmail, dockerTagTags, powershellEscapes, galaxyCommand]
    .map((f) => [f.name, f]),
);
