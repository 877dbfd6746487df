/**
 * Test doubles built on the real contracts: a builder whose steps create
 * real files as ledger resources, a provisioner that appends to a counter
 * file (so a re-run is visible), and a post-processor that copies files.
 */
import { join } from "node:path";
import type { BuilderPlugin } from "../../../builders/builder.ts";
import type { ProvisionerPlugin } from "../../../provisioners/provisioner.ts";
import type { PostProcessorPlugin } from "../../../post_processors/post_processor.ts";
import type { ResourceHandler, Step, StepContext } from "../../../runtime/types.ts";
import type { PreparedBuild, PreparedTemplate } from "../../../template/types.ts";
import { provisionStep } from "../../../steps/common/provision.ts";
import type { PluginOverrides } from "../../../runtime/plugins.ts";
import { exists } from "../../../runtime/fs.ts";

/** The secret every fake run registers; no byte of it may reach disk or output. */
export const SENTINEL = "S3NTINEL-hunter2-Zq9";

const fileHandler: ResourceHandler = {
  async delete(_ctx, resource) {
    await Deno.remove(resource.id).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  },
};

/** A step that creates one file as a ledger resource, write-ahead and reconcilable. */
function fileStep(id: string, suffix: string, temporary: boolean): Step<{ path: string }> {
  const pathOf = (ctx: StepContext) =>
    join(String(ctx.config.root), `${ctx.buildName}-${suffix}.res`);
  return {
    id,
    async run(ctx) {
      if (ctx.config.fail_at === id) throw new Error(`step ${id} failed on purpose`);
      const path = pathOf(ctx);
      const kind = ctx.config.slow_delete && !temporary ? "fake.slowfile" : "fake.file";
      await ctx.intent({ kind, token: `${ctx.runId}-${ctx.buildName}-${suffix}` });
      await Deno.writeTextFile(path, `${ctx.runId}\n`);
      await ctx.created({ kind, id: path, ...(temporary ? { temporary } : {}) });
      return { path };
    },
    async reconcile(ctx) {
      const path = pathOf(ctx);
      if (!(await exists(path))) return undefined;
      await ctx.created({ kind: "fake.file", id: path, ...(temporary ? { temporary } : {}) });
      return { path };
    },
  };
}

/** The fake builder: resource, temporary resource, provisioning, image. */
export const fakeBuilder: BuilderPlugin = {
  type: "fake",
  schema: {
    fields: {
      root: { type: "string" },
      fail_at: { type: "string" },
      slow_delete: { type: "bool" },
    },
  },
  steps: () => [
    fileStep("fake.disk", "disk", false),
    fileStep("fake.scratch", "scratch", true),
    provisionStep(),
    {
      id: "fake.image",
      async run(ctx) {
        if (ctx.config.fail_at === "fake.image") throw new Error("image step failed on purpose");
        const path = join(String(ctx.config.root), `${ctx.buildName}.img`);
        await Deno.writeTextFile(path, `image of ${ctx.buildName}\n`);
        return { path };
      },
    },
  ],
  artifact: (state) => {
    const path = (state["fake.image"] as { path: string }).path;
    return { builderId: "kiln.fake", id: path, files: [path], description: `image ${path}` };
  },
  resources: {
    "fake.file": fileHandler,
    "fake.slowfile": {
      async delete(ctx, resource) {
        ctx.ui.say(`slowly deleting ${resource.id}`);
        await new Promise((r) => setTimeout(r, 1500));
        await fileHandler.delete(ctx, resource);
      },
    },
  },
};

/** Appends `<build>:<label>` to `file`; fails when `fail_flag` names an existing file. */
export const counterProvisioner: ProvisionerPlugin = {
  type: "counter",
  needsCommunicator: false,
  schema: {
    fields: {
      file: { type: "string" },
      label: { type: "string" },
      fail_flag: { type: "string" },
      fail_once: { type: "bool" },
    },
  },
  async provision(ctx, config) {
    if (config.fail_flag && await exists(String(config.fail_flag))) {
      if (config.fail_once) await Deno.remove(String(config.fail_flag));
      throw new Error(`counter ${config.label} failed on purpose`);
    }
    ctx.ui.message(`counting ${config.label} with ${SENTINEL}`);
    await Deno.writeTextFile(String(config.file), `${ctx.buildName}:${config.label}\n`, {
      append: true,
    });
  },
};

/** Copies the input's files to `<file>.copy`; the input is not kept by default. */
export const copyPostProcessor: PostProcessorPlugin = {
  type: "fake-copy",
  schema: { fields: {} },
  // Declared so that they join the ledger before they are written.
  outputs: (_ctx, _config, input) => input.files.map((f) => `${f}.copy`),
  async postProcess(ctx, _config, input) {
    const files: string[] = [];
    for (const f of input.files) {
      await Deno.copyFile(f, `${f}.copy`);
      files.push(`${f}.copy`);
    }
    ctx.ui.say(`copied ${files.length} file(s)`);
    return {
      artifact: { builderId: "kiln.copy", id: files.join(","), files, description: `copies` },
      keep: false,
    };
  },
};

/** Writes `started` then waits until cancelled (or `ms` elapse). */
export const sleepProvisioner: ProvisionerPlugin = {
  type: "sleep",
  needsCommunicator: false,
  schema: { fields: { started: { type: "string" }, ms: { type: "int" } } },
  async provision(ctx, config) {
    await Deno.writeTextFile(String(config.started), "started\n");
    ctx.ui.say("sleeping");
    await new Promise<void>((resolve, reject) => {
      // The cancel may land while the file above was being written.
      if (ctx.signal.aborted) return reject(new Error("interrupted"));
      const timer = setTimeout(resolve, Number(config.ms ?? 30_000));
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new Error("interrupted"));
      }, { once: true });
    });
  },
};

/** Writes `<root>/pp-started` then waits until cancelled. */
export const slowPostProcessor: PostProcessorPlugin = {
  type: "fake-slow",
  schema: { fields: { started: { type: "string" } } },
  async postProcess(ctx, config, input) {
    await Deno.writeTextFile(String(config.started), "started\n");
    await new Promise<void>((_, reject) => {
      if (ctx.signal.aborted) return reject(new Error("interrupted"));
      ctx.signal.addEventListener("abort", () => reject(new Error("interrupted")), { once: true });
    });
    return { artifact: input, keep: true };
  },
};

/** The plugins above, for runBuild's `plugins` option. */
export const fakePlugins: PluginOverrides = {
  builders: { fake: fakeBuilder },
  provisioners: { counter: counterProvisioner, sleep: sleepProvisioner },
  postProcessors: { "fake-copy": copyPostProcessor, "fake-slow": slowPostProcessor },
};

/** Options of a hand-made template. */
export interface FakeTemplateOptions {
  root: string;
  builds?: string[];
  provisioners?: number;
  failAt?: string;
  failFlag?: string;
  postProcess?: boolean;
  digest?: string;
  /** Insert a sleep provisioner (writes `<root>/started`) before the counters. */
  sleep?: boolean;
  /** Add an error-cleanup-provisioner (a counter labelled "cleanup"). */
  errorCleanup?: boolean;
  /** The disk resource takes 1.5 s to delete (to interrupt a cleanup). */
  slowDelete?: boolean;
  /** A post-processor that waits to be cancelled (writes `<root>/pp-started`). */
  slowPostProcessor?: boolean;
}

/** A PreparedTemplate with fake builds writing under `root`. */
export function fakeTemplate(o: FakeTemplateOptions): PreparedTemplate {
  const counter = join(o.root, "counter.txt");
  const build = (name: string): PreparedBuild => ({
    name,
    type: "fake",
    path: `builders[${name}]`,
    config: {
      root: o.root,
      ...(o.failAt ? { fail_at: o.failAt } : {}),
      ...(o.slowDelete ? { slow_delete: true } : {}),
    },
    provisioners: [
      ...(o.sleep
        ? [{
          index: 100,
          type: "sleep",
          path: "provisioners[sleep]",
          config: { started: join(o.root, "started"), ms: 30_000 },
          pauseBefore: 0,
          maxRetries: 0,
          timeout: 0,
        }]
        : []),
      ...Array.from({ length: o.provisioners ?? 2 }, (_, index) => ({
        index,
        type: "counter",
        path: `provisioners[${index}]`,
        config: {
          file: counter,
          label: `p${index}`,
          ...(o.failFlag && index === (o.provisioners ?? 2) - 1 ? { fail_flag: o.failFlag } : {}),
        },
        pauseBefore: 0,
        maxRetries: 0,
        timeout: 0,
      })),
    ],
    ...(o.errorCleanup
      ? {
        errorCleanupProvisioner: {
          index: -1,
          type: "counter",
          path: "error-cleanup-provisioner",
          config: { file: counter, label: "cleanup" },
          pauseBefore: 0,
          maxRetries: 0,
          timeout: 0,
        },
      }
      : {}),
    postProcessors: o.postProcess === false ? [] : [[
      { type: "fake-copy", name: "fake-copy", path: "post-processors[0]", config: {} },
      ...(o.slowPostProcessor
        ? [{
          type: "fake-slow",
          name: "fake-slow",
          path: "post-processors[1]",
          config: { started: join(o.root, "pp-started") },
        }]
        : []),
    ]],
  });
  return {
    template: {
      file: join(o.root, "template.json"),
      dir: o.root,
      format: "json",
      variables: { secret: { default: null, sensitive: true } },
      builders: [],
      provisioners: [],
      postProcessors: [],
      digest: o.digest ?? "d".repeat(64),
    },
    variables: { secret: SENTINEL },
    secrets: [SENTINEL],
    builds: (o.builds ?? ["alpha"]).map(build),
    inputsDigest: "i".repeat(64),
  };
}
