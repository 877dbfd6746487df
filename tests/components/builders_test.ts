import assert from "node:assert/strict";
import { join } from "node:path";
import {
  fileBuilder,
  fileResource,
  type FileTargetOutput,
  partialPath,
} from "../../builders/file.ts";
import { identityOf } from "../../runtime/local_identity.ts";
import { nullBuilder } from "../../builders/null.ts";
import type { BuildInfo } from "../../builders/builder.ts";
import { decode, issues, recordingUi, stepContext, withTempDir } from "./support.ts";

const info: BuildInfo = { runId: "r", buildName: "file", templateDir: "." };

async function runFileBuilder(raw: Record<string, unknown>) {
  const config = decode(fileBuilder.schema, raw);
  const [write] = fileBuilder.steps(config, info);
  const { ctx, ui, ledger } = stepContext(config);
  const out = await write.run(ctx) as FileTargetOutput;
  const artifact = fileBuilder.artifact({ [write.id]: out }, config);
  return { out, ui, ledger, artifact };
}

Deno.test("file builder: content goes to target, missing directories are created", async () => {
  await withTempDir(async (dir) => {
    const target = join(dir, "a", "b", "c", "art.txt");
    const { ui, ledger, artifact } = await runFileBuilder({ content: "Lorem ipsum", target });
    assert.equal(await Deno.readTextFile(target), "Lorem ipsum");
    assert.equal(
      (await Deno.stat(target)).mode! & 0o777,
      0o600,
      "Packer writes content files 0600",
    );
    assert.deepEqual(artifact, {
      builderId: "packer.file",
      id: "File",
      files: [target],
      description: `Stored file: ${target}`,
    });
    assert.deepEqual(ui.says, []);
    const info = await Deno.lstat(target);
    assert.deepEqual(ledger.created, [{
      kind: "file",
      id: target,
      data: {
        path: target,
        identity: {
          type: "file",
          dev: info.dev,
          ino: info.ino,
          size: 11,
          mtimeMs: info.mtime!.getTime(),
          birthMs: info.birthtime?.getTime() ?? null,
        },
      },
    }]);
    assert.equal(
      ledger.intents.length,
      2,
      "the write, then the rename, announced before they happen",
    );
  });
});

Deno.test("file builder: source is copied (streamed) and reported as Packer does", async () => {
  await withTempDir(async (dir) => {
    const source = join(dir, "src.bin");
    const bytes = crypto.getRandomValues(new Uint8Array(65536));
    const big = new Uint8Array(3 * 1024 * 1024 + 7);
    for (let off = 0; off < big.length; off += bytes.length) {
      big.set(bytes.subarray(0, Math.min(bytes.length, big.length - off)), off);
    }
    await Deno.writeFile(source, big);
    const target = join(dir, "out", "copy.bin");
    const { ui, out } = await runFileBuilder({ source, target });
    assert.deepEqual(ui.says, [`Copying ${source} to ${target}`, `Copied ${big.length} bytes`]);
    assert.equal(out.bytes, big.length);
    const copy = await Deno.readFile(target);
    assert.ok(copy.length === big.length && copy.every((v, i) => v === big[i]));
  });
});

Deno.test("file builder: no content and no source gives an empty file; a missing source fails clearly", async () => {
  await withTempDir(async (dir) => {
    const target = join(dir, "empty");
    await runFileBuilder({ target });
    assert.equal((await Deno.stat(target)).size, 0);
    await assert.rejects(
      () => runFileBuilder({ source: join(dir, "nope.txt"), target: join(dir, "x") }),
      (err: Error) => err.message === `open ${join(dir, "nope.txt")}: no such file or directory`,
    );
  });
});

Deno.test("file builder: validation messages are Packer's", () => {
  assert.deepEqual(issues(fileBuilder.schema, { content: "x", source: "y" }), [
    "c.target: target required",
    "c: Cannot specify source file AND content",
  ]);
  assert.deepEqual(issues(fileBuilder.schema, { target: "t", communicator: "none" }), [
    `c.communicator: unknown configuration key: "communicator"`,
  ]);
});

Deno.test("file builder: the target is a ledger resource its handler deletes (idempotently), only while unchanged", async () => {
  await withTempDir(async (dir) => {
    const target = join(dir, "t.txt");
    const { ledger } = await runFileBuilder({ content: "x", target });
    const ctx = {
      runId: "r",
      buildName: "file",
      config: {},
      ui: recordingUi(),
      signal: new AbortController().signal,
    };
    await fileResource.delete(ctx, ledger.created[0]);
    await assert.rejects(() => Deno.stat(target), Deno.errors.NotFound);
    await fileResource.delete(ctx, ledger.created[0]);
    assert.equal(fileBuilder.resources.file, fileResource);
    await Deno.writeTextFile(target, "the user's own file now\n");
    await assert.rejects(
      () => fileResource.delete(ctx, ledger.created[0]),
      (err: Error) =>
        err.name === "DeletionRefused" && /changed since this run created it/.test(err.message),
    );
    assert.equal(await Deno.readTextFile(target), "the user's own file now\n");
  });
});

Deno.test("file builder: a target that existed is overwritten (as Packer) but never claimed", async () => {
  await withTempDir(async (dir) => {
    const target = join(dir, "disk.img");
    await Deno.writeTextFile(target, "PRECIOUS\n");
    const { ledger, out } = await runFileBuilder({ content: "new", target });
    assert.equal(await Deno.readTextFile(target), "new");
    assert.deepEqual(ledger.created, []);
    assert.equal(out.preexisting, true);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["disk.img"],
      "no partial left",
    );
  });
});

Deno.test("file builder writes, then runs the provisioners; null connects, then provisions", () => {
  const file = decode(fileBuilder.schema, { target: "t", content: "c" });
  assert.deepEqual(fileBuilder.steps(file, info).map((s) => s.id), [
    "file.target",
    "common.provision",
  ]);
  const nul = decode(nullBuilder.schema, { communicator: "none" });
  assert.deepEqual(nullBuilder.steps(nul, info).map((s) => s.id), [
    "common.connect",
    "common.provision",
  ]);
});

Deno.test("null builder: Packer's null artifact, and its communicator checks", () => {
  assert.deepEqual(nullBuilder.artifact({}, {}), {
    builderId: "fnoeding.null",
    id: "Null",
    files: [],
    description: "Did not export anything. This is the null builder",
  });
  assert.deepEqual(issues(nullBuilder.schema, { communicator: "none" }), []);
  const problems = issues(nullBuilder.schema, {});
  assert.ok(
    problems.includes(
      "c.ssh_host: a Host must be specified, please reference your communicator documentation",
    ),
  );
  assert.ok(
    problems.includes(
      "c: one authentication method must be specified, please reference your communicator documentation",
    ),
  );
  assert.deepEqual(
    issues(nullBuilder.schema, {
      ssh_host: "127.0.0.1",
      ssh_username: "u",
      ssh_password: "p",
      ssh_private_key_file: "k",
    }),
    ["c: only one of ssh_agent_auth, ssh_password, and ssh_private_key_file must be specified"],
  );
  assert.deepEqual(
    issues(nullBuilder.schema, { ssh_host: "127.0.0.1", ssh_username: "u", ssh_password: "p" }),
    [],
  );
});

Deno.test("file builder: after a crash mid-write, reconcile claims only the write it can prove", async () => {
  await withTempDir(async (dir) => {
    const target = join(dir, "half.txt");
    const config = decode(fileBuilder.schema, { content: "complete", target });
    const [write] = fileBuilder.steps(config, info);
    const partial = partialPath(target, "20261122T000000Z-test01");

    // Died while writing the partial: it goes, nothing is claimed, the write runs again.
    await Deno.writeTextFile(partial, "comp");
    const absent = {
      kind: "file",
      token: target,
      data: { path: target, partial, preexisting: false },
    };
    let { ctx, ledger } = stepContext(config);
    assert.equal(await write.reconcile!(ctx, [absent]), undefined, "the write must run again");
    assert.deepEqual(ledger.created, []);
    await assert.rejects(() => Deno.lstat(partial), Deno.errors.NotFound);

    // Died between the rename and its record: the identity logged before the rename proves it.
    await Deno.writeTextFile(partial, "complete");
    const written = await identityOf(partial);
    await Deno.rename(partial, target);
    const renamed = { ...absent, data: { ...absent.data, written } };
    ({ ctx, ledger } = stepContext(config));
    const out = await write.reconcile!(ctx, [absent, renamed]) as FileTargetOutput;
    assert.equal(out.path, target);
    assert.deepEqual(ledger.created.map((r) => r.id), [target]);

    // Someone else's file at the target (no logged identity matches it): never claimed.
    await Deno.remove(target);
    await Deno.writeTextFile(target, "the user's\n");
    ({ ctx, ledger } = stepContext(config));
    assert.equal(await write.reconcile!(ctx, [absent, renamed]), undefined);
    assert.deepEqual(ledger.created, []);

    // The target existed before the run: never claimed, even once overwritten.
    const before = { ...absent, data: { ...absent.data, preexisting: await identityOf(target) } };
    await Deno.writeTextFile(partial, "complete");
    const ours = { ...before, data: { ...before.data, written: await identityOf(partial) } };
    await Deno.rename(partial, target);
    ({ ctx, ledger } = stepContext(config));
    const kept = await write.reconcile!(ctx, [before, ours]) as FileTargetOutput;
    assert.equal(kept.preexisting, true);
    assert.deepEqual(ledger.created, []);
  });
});
