import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/load.js";
import { type Config, envName, flagName, type SettingKey, settings } from "../config/schema.js";

type FlagSpec = { type: "string" | "boolean"; multiple?: boolean; short?: string };

/** Every setting is a flag of every command; commands add their own flags. */
const SETTING_FLAGS: Record<string, FlagSpec> = Object.fromEntries(
  (Object.keys(settings) as SettingKey[]).map((key) => [
    flagName(key),
    { type: "string", multiple: key === "llmUrl" },
  ]),
);

/** Settings that are on/off: their flag may stand alone (`--soft-reward`) or take a value (`--soft-reward false`). */
const BOOLEAN_FLAGS = new Set(
  (Object.keys(settings) as SettingKey[])
    .filter((key) => typeof settings[key].default === "boolean")
    .map((key) => `--${flagName(key)}`),
);
const BOOLEAN_WORDS = new Set(["true", "false", "1", "0"]);

/** `--flag` alone, or followed by something that is not a boolean word, means `--flag=true`. */
function bareBooleans(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (!BOOLEAN_FLAGS.has(arg)) {
      out.push(arg);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && BOOLEAN_WORDS.has(next.toLowerCase())) {
      out.push(`${arg}=${next.toLowerCase()}`);
      i++;
    } else {
      out.push(`${arg}=true`);
    }
  }
  return out;
}

export interface Parsed {
  config: Config;
  own: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parse argv into validated settings (flags > TINYV_* env > --config file > defaults) and the command's own flags. */
export function parseCommand(
  argv: string[],
  own: Record<string, FlagSpec>,
  allowPositionals = false,
): Parsed {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: bareBooleans(argv),
      options: { ...SETTING_FLAGS, config: { type: "string" }, ...own },
      allowPositionals,
      strict: true,
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const flags: Partial<Record<SettingKey, unknown>> = {};
  for (const key of Object.keys(settings) as SettingKey[]) {
    const v = values[flagName(key)];
    if (v !== undefined) flags[key] = key === "llmUrl" ? (v as string[]).flatMap((s) => s.split(",")) : v;
  }
  const config = loadConfig(flags, process.env, values.config as string | undefined);
  const ownValues = Object.fromEntries(
    Object.keys(own).map((k) => [k, values[k] as string | boolean | string[] | undefined]),
  );
  return { config, own: ownValues, positionals };
}

const shown = (v: unknown) =>
  Array.isArray(v) ? v.join(",") || "none" : v === undefined || v === "" ? "none" : String(v);

export function settingsHelp(): string {
  return (Object.keys(settings) as SettingKey[])
    .map((key) => `  --${flagName(key).padEnd(24)} ${settings[key].help} [${shown(settings[key].default)}]`)
    .join("\n");
}

/** The README's configuration table, generated so it cannot drift from the schema. */
export function settingsTable(): string {
  const rows = (Object.keys(settings) as SettingKey[]).map((key) => {
    const d = key === "workers" ? "cores" : shown(settings[key].default);
    return `| \`--${flagName(key)}\` | \`${envName(key)}\` | \`${key}\` | ${d} | ${settings[key].help.replaceAll("|", "\\|")} |`;
  });
  return [
    "| flag | environment | config file key | default | meaning |",
    "|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}
