import { readFileSync } from "node:fs";
import { type Config, envName, flagName, type SettingKey, settings } from "./schema.js";

/** A setting that failed validation; the CLI prints the message and exits 2. */
export class ConfigError extends Error {}

const KEYS = Object.keys(settings) as SettingKey[];

/**
 * Merge defaults < config file < environment < command line, then validate each
 * value against its one schema. `flags` holds CLI values keyed by setting key.
 */
export function loadConfig(
  flags: Partial<Record<SettingKey, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
  file?: string,
): Config {
  const fromFile = file ? readConfigFile(file) : {};
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const spec = settings[key];
    let value: unknown = spec.default;
    let source = "default";
    if (fromFile[key] !== undefined) [value, source] = [fromFile[key], `${file}: ${key}`];
    const e = env[envName(key)];
    if (e !== undefined && e !== "") [value, source] = [e, envName(key)];
    if (flags[key] !== undefined) [value, source] = [flags[key], `--${flagName(key)}`];
    const parsed = spec.schema.safeParse(value);
    if (!parsed.success) {
      const why = parsed.error.issues[0]?.message ?? "invalid";
      throw new ConfigError(`invalid ${source}=${JSON.stringify(value)}: ${why} (${spec.help})`);
    }
    out[key] = parsed.data;
  }
  const config = out as Config;
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) {
    throw new ConfigError("--tls-cert and --tls-key go together: give both or neither");
  }
  return config;
}

function readConfigFile(file: string): Partial<Record<SettingKey, unknown>> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError(`config file ${file}: expected a JSON object of settings`);
  }
  for (const key of Object.keys(data)) {
    if (!(key in settings)) throw new ConfigError(`config file ${file}: unknown setting "${key}"`);
  }
  return data as Partial<Record<SettingKey, unknown>>;
}

/** The effective mode: explicit, else addon with an LLM, else rules_only. */
export function defaultMode(config: Config) {
  return config.mode ?? (config.llmUrl.length > 0 ? "addon" : "rules_only");
}
