/** kiln's version, recorded in every run log's RunStarted event. */
export const KILN_VERSION = "0.1.0";
/** The Packer version kiln is compatible with (`packer_version`, `min_packer_version`). */
export const PACKER_COMPAT_VERSION = "1.6.6";
