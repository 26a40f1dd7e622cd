import { loadRegistry, type ModelProfile } from "../../src/llm/registry.js";

export const registry = loadRegistry();

export function profileOf(name: string): ModelProfile {
  const p = registry.get(name);
  if (!p) throw new Error(`no ${name} in the bundled registry`);
  return p;
}
