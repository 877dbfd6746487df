/**
 * kiln's HCL2 front end against Packer 1.6.6, case by case: every recorded
 * configuration (tests/fixtures/hcl/oracle) is run through kiln with the same
 * command, arguments and environment; success or failure and every line the
 * provisioners print must be Packer's. The cases listed in KNOWN differ on
 * purpose (current Packer documents win over 1.6.6, or kiln refuses what its
 * log cannot represent); each must still differ, so the list stays true.
 */
import { assert } from "../assert.ts";
import { loadCase, oracleCases, runKiln } from "./oracle.ts";

/** Case → why kiln differs from Packer 1.6.6. */
const KNOWN: Record<string, string> = {
  ctx_packer_version:
    "packer.version is the HCL language level kiln implements (current docs), not 1.6.6",
  ctx_postprocessor_build_vars:
    "current Packer gives post-processors build.PackerRunUUID; 1.6.6 lacks it",
  ctx_source_in_source: "current Packer allows source.name inside a source block; 1.6.6 refuses",
  ctx_source_build:
    "null builds' build.ID/Host/... are kiln's values (empty), not 1.6.6's Null/<unknown>",
  expr_arith:
    "kiln computes with 64-bit floats (1/3, 0.1+0.2, 2^53+1 print as JavaScript does); Packer with arbitrary precision",
  expr_null_jsonencode: "1.6.6 refuses null in a template interpolation even through jsonencode",
  expr_template_directives: "1.6.6 does not strip <<- indentation on lines with directives",
  fn_index_collection: "index(list, value) as current docs; 1.6.6 had cty's index(collection, key)",
  fn_index_quirk: "index(list, value) as current docs; 1.6.6 had cty's index(collection, key)",
  fn_strings: "replace() treats /re/ as a regular expression, as current docs; 1.6.6 did not",
  fn_templatefile: "templatefile exists in current Packer; 1.6.6 lacks it",
  local_singular_block:
    'local "x" { expression, sensitive } blocks are current Packer; 1.6.6 lacks them',
  locals_duplicate: "current Packer refuses a local defined twice; 1.6.6 let the last win",
  packer_block_unsatisfied:
    "required_version is checked against the HCL language level kiln implements",
  prec_all:
    "later -var/-var-file flags win across both kinds (the documents); 1.6.6 lets -var always win",
  sb_error_cleanup: "error-cleanup-provisioner in build blocks is current Packer; 1.6.6 lacks it",
  sb_same_source_twice:
    "kiln's log keys builds by name: two builds named null.a are refused with a clear error",
  sb_source_override_noname:
    "kiln's log keys builds by name: two builds named null.a are refused with a clear error",
  var_type_any: "current Packer accepts the any type; 1.6.6 refused it",
  var_type_any_nested: "current Packer accepts list(any)/map(any); 1.6.6 refused them",
};

const cases = await oracleCases();

Deno.test("the oracle holds enough recorded cases to mean something", () => {
  assert(cases.length >= 100, `only ${cases.length} cases`);
  for (const k of Object.keys(KNOWN)) assert(cases.includes(k), `KNOWN names a missing case ${k}`);
});

// Cases run in small batches so the suite's parallel workers share the cores.
for (let i = 0; i < cases.length; i += 8) {
  const batch = cases.slice(i, i + 8);
  Deno.test(`HCL2 behaves as Packer 1.6.6: ${batch[0]} … ${batch[batch.length - 1]}`, async () => {
    const failures: string[] = [];
    await Promise.all(batch.map(async (name) => {
      const { packer } = await loadCase(name);
      const kiln = await runKiln(name);
      const same = (packer.exit === 0) === (kiln.exit === 0) &&
        JSON.stringify(packer.lines) === JSON.stringify(kiln.lines);
      if (Object.hasOwn(KNOWN, name)) {
        if (same) failures.push(`${name}: now matches Packer; drop it from KNOWN`);
      } else if (!same) {
        failures.push(
          `${name}: packer exit ${packer.exit} lines ${JSON.stringify(packer.lines)}\n` +
            `  kiln exit ${kiln.exit} lines ${JSON.stringify(kiln.lines)}\n  ${
              kiln.stderr.slice(0, 500)
            }`,
        );
      }
    }));
    assert(failures.length === 0, failures.join("\n"));
  });
}
