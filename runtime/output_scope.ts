/**
 * The template check: a local path in a build's ledger is deleted only if
 * the run's template could have produced it — one of the builder's declared
 * paths (the file builder's target), a provisioner's declared temporary
 * files (ansible's inventory_directory), a post-processor's declared output or
 * scratch name, a file a post-processor may adopt (artifice's globs), or a
 * path inside the run's own temp directory. Anything else (a forged or
 * corrupted entry) is refused and reported, never deleted.
 *
 * Paths are rendered as the run rendered them: the prepared template's
 * values, the post-processor's `{{.BuildName}}`-style data, the input
 * artifact the log records. What only the running build knew — `build`
 * data such as the instance's address — becomes a placeholder matching any
 * text within one path segment, so the rule still pins every directory.
 */
import { join, resolve } from "node:path";
import type { PreparedBuild, PreparedTemplate } from "../template/types.ts";
import type { BuildState } from "./fold.ts";
import type { PluginSource } from "./plugins.ts";
import type { PostProcessContext } from "./plugin_types.ts";
import { templateApi } from "./template_bridge.ts";
import { pathMatcher, placeholder } from "./path_pattern.ts";
import { isInside } from "./local_identity.ts";
import { runWorkDir } from "./run_temp.ts";

/** Decides whether a ledger path is one the template could have produced. */
export interface OutputScope {
  /** Why `path` is outside the template's outputs, or undefined when it is inside. */
  problem(path: string): string | undefined;
}

/** What the scope of one build is computed from. */
export interface ScopeParts {
  prepared: PreparedTemplate;
  build: PreparedBuild;
  /** The build's fold (the input artifact of each post-processor). */
  state: BuildState;
  plugins: PluginSource;
  runId: string;
  /** Where the run ran: relative template paths resolve against it. */
  cwd: string;
  /** The run's directory; its `tmp/` is the run's own temp directory. */
  runDir: string;
}

/** A scope that refuses every local path, saying why (no trustworthy template). */
export function closedScope(why: string): OutputScope {
  return { problem: () => why };
}

/** The paths build `parts.build` could have produced. */
export async function outputScope(parts: ScopeParts): Promise<OutputScope> {
  const { build, cwd, runId } = parts;
  const matchers: RegExp[] = [];
  const add = (path: string, glob: boolean) => matchers.push(pathMatcher(resolve(cwd, path), glob));
  const builder = await parts.plugins.builder(build.type);
  for (const path of builder?.localPaths?.(build.config, scopeBuildInfo(parts)) ?? []) {
    add(path, false);
  }
  const render = renderer(parts);
  for (const [c, chain] of build.postProcessors.entries()) {
    for (const [i, pp] of chain.entries()) {
      const input = i === 0 ? parts.state.artifact : parts.state.postProcessed[`${c}:${i - 1}`]
        ?.artifact;
      const plugin = await parts.plugins.postProcessor(pp.type);
      if (!input || !plugin) continue;
      try {
        const config = templateApi().resolveBuildData(pp.config, plugin.schema, render.context);
        const ctx = scopeContext(parts, render.render);
        for (const path of plugin.outputs?.(ctx, config, input) ?? []) add(path, false);
        for (const path of plugin.scratch?.(ctx, config, input) ?? []) add(path, false);
        for (const pattern of plugin.adopts?.(ctx, config) ?? []) add(pattern, true);
      } catch {
        // A path that no longer renders cannot vouch for any ledger entry.
      }
    }
  }
  for (
    const p of [
      ...build.provisioners,
      ...(build.errorCleanupProvisioner ? [build.errorCleanupProvisioner] : []),
    ]
  ) {
    const plugin = await parts.plugins.provisioner(p.type);
    for (const pattern of plugin?.localPaths?.(p.config) ?? []) add(pattern, true);
  }
  const tmp = join(parts.runDir, "tmp");
  const work = runWorkDir(parts.runDir);
  return {
    problem(path) {
      if (resolve(path) !== path) return `${path} is not a normalized absolute path`;
      if (isInside(path, tmp) || isInside(path, work)) return undefined;
      if (matchers.some((m) => m.test(path))) return undefined;
      return `${path} is not an output of run ${runId}'s template ` +
        `(builds' targets, provisioners' temporary files, post-processor outputs, ` +
        `the run's temp and work directories)`;
    },
  };
}

function scopeBuildInfo(parts: ScopeParts) {
  return {
    runId: parts.runId,
    buildName: parts.build.name,
    templateDir: parts.prepared.template.dir,
  };
}

/** Renders as the build did, with every `build` datum a placeholder. */
function renderer(parts: ScopeParts) {
  const context = {
    variables: parts.prepared.variables,
    templateDir: parts.prepared.template.dir,
    buildName: parts.build.sourceName ?? parts.build.name,
    buildType: parts.build.type,
    buildData: anyBuildData(),
  };
  return {
    context,
    render: (text: string, data?: Record<string, unknown>) =>
      templateApi().renderString(text, { ...context, data }),
  };
}

/** Build data whose every key exists and reads as a placeholder of its own. */
function anyBuildData(): Record<string, string> {
  const values = new Map<string, string>();
  const value = (key: string) => {
    if (!values.has(key)) values.set(key, placeholder(values.size));
    return values.get(key)!;
  };
  return new Proxy({}, {
    get: (_, key) => typeof key === "string" ? value(key) : undefined,
    has: (_, key) => typeof key === "string",
    getOwnPropertyDescriptor: (_, key) =>
      typeof key === "string"
        ? { value: value(key), enumerable: true, configurable: true, writable: false }
        : undefined,
  });
}

function scopeContext(
  parts: ScopeParts,
  render: (text: string, data?: Record<string, unknown>) => string,
): PostProcessContext {
  const quiet = { say() {}, message() {}, error() {} };
  return {
    runId: parts.runId,
    buildName: parts.build.sourceName ?? parts.build.name,
    runBuildName: parts.build.name,
    builderType: parts.build.type,
    ui: quiet,
    signal: new AbortController().signal,
    force: false,
    render,
    emit: () => Promise.resolve(),
  };
}
