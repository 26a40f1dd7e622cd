/**
 * mathjs, loaded from its single-file build: the package's ESM entry is a tree of over a thousand
 * modules that takes a second or more to load in every rule worker; the one-file build of the same
 * version loads in a tenth of that (bench/RESULTS.md, "CLI start-up"). The types are the package's own.
 */
import { createRequire } from "node:module";
import type * as MathJs from "mathjs";

export const math = createRequire(import.meta.url)("mathjs/lib/browser/math.js") as typeof MathJs;

/** A mathjs instance with every function, configured (precision, number type). */
export const createMath = (config: MathJs.ConfigOptions): MathJs.MathJsInstance =>
  math.create(math.all as MathJs.FactoryFunctionMap, config);
