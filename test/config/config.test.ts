import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { settingsTable } from "../../src/cli/args.js";
import { ConfigError, defaultMode, loadConfig } from "../../src/config/load.js";
import { envName, flagName } from "../../src/config/schema.js";

describe("config schema", () => {
  it("derives flag and environment names from the key", () => {
    expect(flagName("llmTimeoutMs")).toBe("llm-timeout-ms");
    expect(envName("llmTimeoutMs")).toBe("TINYV_LLM_TIMEOUT_MS");
  });

  it("merges defaults < env < flags and coerces strings", () => {
    const c = loadConfig({ port: "6000" }, { TINYV_PORT: "5000", TINYV_LLM_URL: "http://a/v1, http://b/v1" });
    expect(c.port).toBe(6000);
    expect(c.llmUrl).toEqual(["http://a/v1", "http://b/v1"]);
    expect(c.httpPort).toBe(8080);
    expect(defaultMode(c)).toBe("addon");
    expect(defaultMode(loadConfig({}, {}))).toBe("rules_only");
    expect(defaultMode(loadConfig({ mode: "rules" }, { TINYV_LLM_URL: "http://a/v1" }))).toBe("rules_only");
    expect(defaultMode(loadConfig({ mode: "llm" }, {}))).toBe("llm_only");
  });

  it("names the setting and its source in errors", () => {
    expect(() => loadConfig({ llmWeight: "2" }, {})).toThrow(/--llm-weight="2"/);
    expect(() => loadConfig({}, { TINYV_WORKERS: "zero" })).toThrow(/TINYV_WORKERS/);
    expect(() => loadConfig({ tlsCert: "a.pem" }, {})).toThrow(ConfigError);
  });

  it("keeps the README's configuration table in step with the schema", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const block = /<!-- config:start -->\n([\s\S]*)\n<!-- config:end -->/.exec(readme)?.[1];
    expect(block, "run: npm run build && node scripts/readme-config.mjs").toBe(settingsTable());
  });
});
