/**
 * llama.cpp's `llama-server` for the tests: the binary scripts/llama/build.sh builds (npm test runs it
 * first), the tiny GGUF judges scripts/llama/gguf_models.py writes, and a started server.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const versions = JSON.parse(
  readFileSync(new URL("../../scripts/llama/versions.json", import.meta.url), "utf8"),
) as Record<string, string>;
const cache = process.env.TINYV_CACHE || join(homedir(), ".cache", "tinyv");

export const LLAMA_SERVER = join(cache, `llama.cpp-${versions["llama-cpp-python"]}`, "bin", "llama-server");
const GGUF_PYTHON = join(cache, `gguf-${versions.gguf}`, "bin", "python");
const WRITER = fileURLToPath(new URL("../../scripts/llama/gguf_models.py", import.meta.url));

export type ModelKind = "true" | "false" | "think" | "random";

/** Write the four tiny judges into `dir` (a few hundred KB each); fails clearly when the build step has not run. */
export function writeModels(dir: string): Record<ModelKind, string> {
  for (const [what, path] of [
    ["llama-server", LLAMA_SERVER],
    ["the gguf venv", GGUF_PYTHON],
  ]) {
    if (!existsSync(path as string)) {
      throw new Error(`${what} is missing at ${path}: run \`bash scripts/llama/build.sh\` (npm test does)`);
    }
  }
  execFileSync(GGUF_PYTHON, [WRITER, dir], { stdio: "inherit" });
  const at = (k: ModelKind) => join(dir, `${k}.gguf`);
  return { true: at("true"), false: at("false"), think: at("think"), random: at("random") };
}

export interface Llama {
  proc: ChildProcess;
  port: number;
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  log: () => string;
  /** SIGKILL (a crash): in-flight requests get their connections reset. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start llama-server on `model`. `port` 0 picks a free one. Resolves once it listens (it answers
 * 503 "Loading model" until the model is loaded); `ready` also waits for /health to be 200.
 */
export async function startLlama(
  model: string,
  args: string[] = [],
  { port = 0, ready = true }: { port?: number; ready?: boolean } = {},
): Promise<Llama> {
  const proc = spawn(
    LLAMA_SERVER,
    ["-m", model, "--host", "127.0.0.1", "--port", String(port), "--jinja", "--no-ui", "-t", "1", ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const onData = (d: Buffer) => {
    log += d;
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`llama-server did not listen: ${log}`)), 30_000);
    const look = () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        proc.stdout?.off("data", look);
        proc.stderr?.off("data", look);
        resolve(Number(m[1]));
      }
    };
    proc.stdout?.on("data", look);
    proc.stderr?.on("data", look);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`llama-server exited with ${code}: ${log}`));
    });
  });
  const base = `http://127.0.0.1:${bound}`;
  const gone = () =>
    proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : once(proc, "exit");
  const llama: Llama = {
    proc,
    port: bound,
    url: `${base}/v1`,
    log: () => log,
    async kill() {
      proc.kill("SIGKILL");
      await gone();
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      await gone();
    },
  };
  if (ready) await untilHealthy(base, 30_000);
  return llama;
}

/** Poll GET /health until 200. */
export async function untilHealthy(base: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`llama-server at ${base} not healthy after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
