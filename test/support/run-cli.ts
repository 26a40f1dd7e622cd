import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { CLI } from "./tinyv.js";

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `tinyv ARGS` as a child process, without blocking this process (its event loop may serve a stand-in). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** The rows of a JSON-lines file (`tinyv eval --out`). */
// biome-ignore lint/suspicious/noExplicitAny: rows are checked field by field by the tests
export const readJsonl = (path: string): any[] =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
