/**
 * Picks kernel modules and everything they depend on out of an unpacked
 * kernel package, in load order. The package ships no modules.dep (depmod runs
 * at install time), so dependencies come from each module's own `depends=`
 * modinfo field.
 */

/** A module to load: its name and path relative to the modules directory. */
export interface KernelModule {
  name: string;
  path: string;
}

const normalise = (name: string) => name.replaceAll("-", "_");

async function indexModules(modulesDir: string): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  const walk = async (rel: string) => {
    for await (const entry of Deno.readDir(`${modulesDir}/${rel}`)) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ko")) index.set(normalise(entry.name.slice(0, -3)), path);
    }
  };
  await walk("kernel");
  return index;
}

function dependsOf(ko: Uint8Array): string[] {
  const text = new TextDecoder("latin1").decode(ko);
  const at = text.indexOf("\0depends=");
  if (at < 0) return [];
  const value = text.slice(at + 9, text.indexOf("\0", at + 9));
  return value ? value.split(",").map(normalise) : [];
}

/**
 * `wanted` modules plus their dependencies, dependencies first. Modules built
 * into the kernel (listed in modules.builtin) are skipped; a name that is
 * neither built in nor shipped is an error.
 */
export async function modulesInLoadOrder(
  modulesDir: string,
  wanted: string[],
): Promise<KernelModule[]> {
  const index = await indexModules(modulesDir);
  const builtin = new Set(
    (await Deno.readTextFile(`${modulesDir}/modules.builtin`)).split("\n")
      .map((line) => normalise(line.split("/").pop()!.replace(/\.ko$/, ""))),
  );
  const ordered: KernelModule[] = [];
  const seen = new Set<string>();
  const visit = async (raw: string) => {
    const name = normalise(raw);
    if (seen.has(name) || builtin.has(name)) return;
    seen.add(name);
    const path = index.get(name);
    if (!path) throw new Error(`kernel module ${name} is neither built in nor in ${modulesDir}`);
    for (const dep of dependsOf(await Deno.readFile(`${modulesDir}/${path}`))) await visit(dep);
    ordered.push({ name, path });
  };
  for (const name of wanted) await visit(name);
  return ordered;
}
