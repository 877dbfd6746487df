/** The helpers `shell` and shell-local share, where Packer 1.6.6 pins the details. */
import assert from "node:assert/strict";
import { flattenEnvVars, goSprintf, packerEnv } from "../../provisioners/shared/env_vars.ts";
import { validExitCodes } from "../../provisioners/shared/exit_codes.ts";
import { inlineScript, inlineShebang } from "../../provisioners/shared/inline_script.ts";

Deno.test("flattenEnvVars escapes the user's values but passes PACKER_* through, as Packer does", () => {
  const vars = flattenEnvVars({
    builtins: packerEnv({
      buildName: "it's",
      builderType: "null",
      buildData: { PackerHTTPAddr: "10.0.0.1:8080", PackerHTTPIP: "10.0.0.1" },
    }),
    environmentVars: ["B=it's", "A=1"],
    env: { A: "2" },
    format: "%s='%s' ",
  });
  assert.equal(
    vars,
    `A='2' B='it'"'"'s' PACKER_BUILDER_TYPE='null' PACKER_BUILD_NAME='it's' ` +
      `PACKER_HTTP_ADDR='10.0.0.1:8080' PACKER_HTTP_IP='10.0.0.1' `,
  );
});

Deno.test("env_var_format goes through Go's Sprintf, not a plain %s substitution", () => {
  assert.equal(goSprintf("%v=%q;", "K", "v"), 'K="v";');
  assert.equal(goSprintf("%s", "K", "v"), "K%!(EXTRA string=v)");
  assert.equal(goSprintf("%s=%s %s", "K", "v"), "K=v %!s(MISSING)");
});

Deno.test("an empty inline_shebang or valid_exit_codes means Packer's default", () => {
  assert.equal(inlineScript(["true"], inlineShebang("")), "#!/bin/sh -e\ntrue\n");
  assert.deepEqual(validExitCodes([]), [0]);
  assert.deepEqual(validExitCodes([0, "3"]), [0, 3]);
});
