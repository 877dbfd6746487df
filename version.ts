/** kiln's version, recorded in every run log's RunStarted event. */
export const KILN_VERSION = "0.1.0";
/** The Packer version kiln is compatible with (`packer_version`, `min_packer_version`). */
export const PACKER_COMPAT_VERSION = "1.6.6";
/**
 * The Packer release whose HCL2 language kiln's HCL front end implements
 * (data sources, the `packer` block, the function library): what
 * `required_version` is checked against and `packer.version` reads.
 */
export const PACKER_HCL_COMPAT_VERSION = "1.9.4";
