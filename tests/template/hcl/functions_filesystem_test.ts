import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { filesystemFunctions } from "../../../template/hcl/functions/filesystem.ts";
import { call, callError, context } from "./call.ts";

function tree(): string {
  const dir = Deno.makeTempDirSync();
  for (
    const f of [
      "hello.txt",
      "a.pkr.hcl",
      "sub/x.txt",
      "sub/deep/y.txt",
      "sub/deep/z.sh",
      "b{1}.txt",
    ]
  ) {
    Deno.mkdirSync(`${dir}/${f}`.replace(/\/[^/]+$/, ""), { recursive: true });
    Deno.writeTextFileSync(`${dir}/${f}`, `content of ${f}\n`);
  }
  return dir;
}

Deno.test("basename and dirname follow Go's filepath", () => {
  assertEquals(call("basename", ["foo/bar/baz.txt"]), "baz.txt");
  assertEquals(call("basename", [""]), ".");
  assertEquals(call("basename", ["/"]), "/");
  assertEquals(call("basename", ["a/b/"]), "b");
  assertEquals(call("dirname", ["foo/bar/baz.txt"]), "foo/bar");
  assertEquals(call("dirname", ["foo"]), ".");
  assertEquals(call("dirname", ["/foo/bar/"]), "/foo/bar");
  assertEquals(call("dirname", ["/"]), "/");
  assertEquals(call("dirname", ["a//b/../c"]), "a");
});

Deno.test("abspath joins the working directory; pathexpand the home directory", () => {
  assertEquals(call("abspath", ["x/../y"]), `${Deno.cwd()}/y`);
  assertEquals(call("abspath", ["/etc"]), "/etc");
  assertEquals(call("pathexpand", ["~/x"]), `${Deno.env.get("HOME")}/x`);
  assertEquals(call("pathexpand", ["a/~"]), "a/~");
});

Deno.test("file and fileexists resolve against the configuration directory", () => {
  const ctx = context(tree());
  assertEquals(call("file", ["hello.txt"], ctx), "content of hello.txt\n");
  assertEquals(callError("file", ["nope.txt"], ctx).message, "no file exists at nope.txt");
  assertEquals(call("fileexists", ["sub/x.txt"], ctx), true);
  assertEquals(call("fileexists", ["nope.txt"], ctx), false);
  assertMatch(callError("fileexists", ["sub"], ctx).message, /^sub is not a regular file/);
  Deno.writeFileSync(`${ctx.baseDir}/bin`, Uint8Array.of(0xff, 0xfe));
  assertMatch(callError("file", ["bin"], ctx).message, /not valid UTF-8/);
});

Deno.test("fileset globs like doublestar and returns sorted relative paths", () => {
  const ctx = context(tree());
  assertEquals(call("fileset", [".", "*.txt"], ctx), ["b{1}.txt", "hello.txt"]);
  assertEquals(call("fileset", [".", "**/*.txt"], ctx), [
    "b{1}.txt",
    "hello.txt",
    "sub/deep/y.txt",
    "sub/x.txt",
  ]);
  assertEquals(call("fileset", ["sub", "**"], ctx), ["deep/y.txt", "deep/z.sh", "x.txt"]);
  assertEquals(call("fileset", [".", "{hello,a}.*"], ctx), ["a.pkr.hcl", "hello.txt"]);
  assertEquals(call("fileset", [".", "h?llo.[st]xt"], ctx), ["hello.txt"]);
  assertEquals(call("fileset", [".", "sub/deep/[!z]*"], ctx), ["sub/deep/y.txt"]);
  assertEquals(call("fileset", [".", "b\\{1}.txt"], ctx), ["b{1}.txt"]);
  assertEquals(call("fileset", ["nope", "*"], ctx), []);
});

Deno.test("templatefile renders through the injected renderer", () => {
  const ctx = context(tree());
  const seen: unknown[] = [];
  const fs = filesystemFunctions((text, vars, file) => {
    seen.push(file);
    return `${text.trim()} / ${vars.name}`;
  });
  assertEquals(fs.templatefile.call(["hello.txt", { name: "x" }], ctx), "content of hello.txt / x");
  assertEquals(seen, [`${ctx.baseDir}/hello.txt`]);
  assertMatch(callError("templatefile", ["hello.txt", {}], ctx).message, /not available/);
  assertEquals(callError("templatefile", ["hello.txt", "x"], ctx).argument, 1);
});
