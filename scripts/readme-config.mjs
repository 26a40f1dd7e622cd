// Rewrites the configuration table in README.md from the settings schema (run after `npm run build`).
import { readFileSync, writeFileSync } from "node:fs";
import { settingsTable } from "../dist/cli/args.js";

const file = new URL("../README.md", import.meta.url);
const text = readFileSync(file, "utf8");
const next = text.replace(
  /<!-- config:start -->[\s\S]*<!-- config:end -->/,
  // A function, so "$" in a help text is not read as a replacement pattern.
  () => `<!-- config:start -->\n${settingsTable()}\n<!-- config:end -->`,
);
writeFileSync(file, next);
