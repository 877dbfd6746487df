/**
 * npm packages that only a few functions need (yaml for yamlencode and
 * yamldecode, bcryptjs for bcrypt), loaded the first time one of those
 * functions runs. Importing them with the library cost every HCL2 `validate`
 * ~80 ms of CPU (yaml alone is ~70 files) for functions most configurations
 * never call. Functions are synchronous, so the package is loaded with
 * `require`, which Deno resolves from the same import map and lockfile as
 * `import`.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** A getter for package `name`, loading it on its first call. */
export function lazyPackage<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => loaded ??= require(name) as T;
}
