import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { checkSync } from "recheck";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Every regex literal in src/ is checked by recheck (an automaton-based ReDoS
 * checker): on untrusted text each must run in linear time. Patterns that read
 * only the operator's own configuration are listed here with the reason.
 */
const TRUSTED_INPUT: Record<string, string> = {
  "/\\/+$/": "trailing slashes of a configured URL",
};

const root = fileURLToPath(new URL("../../src", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "gen" ? [] : sources(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

function regexLiterals(file: string): { at: string; text: string; body: string; flags: string }[] {
  const src = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const found: { at: string; text: string; body: string; flags: string }[] = [];
  const visit = (node: ts.Node) => {
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const text = node.getText(src);
      const end = text.lastIndexOf("/");
      const { line } = src.getLineAndCharacterOfPosition(node.getStart(src));
      found.push({
        at: `${relative(root, file)}:${line + 1}`,
        text,
        body: text.slice(1, end),
        flags: text.slice(end + 1),
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return found;
}

describe("regex audit", () => {
  const all = sources(root).flatMap(regexLiterals);

  it("finds the regexes (the scan itself works)", () => {
    expect(all.length).toBeGreaterThan(50);
    // A known quadratic pattern is caught, so a pass below means something.
    expect(checkSync("<sup>(.*?)<\\/sup>", "g").status).toBe("vulnerable");
  });

  it("has no regex that is super-linear on untrusted text", () => {
    const unsafe = all
      .filter((r) => !(r.text in TRUSTED_INPUT))
      .map((r) => ({
        ...r,
        result: checkSync(r.body, r.flags, {
          randomSeed: 1,
          // No wall-clock limits (the results would depend on the machine's load): step counts only.
          timeout: null,
          attackTimeout: null,
          incubationTimeout: null,
          seedingTimeout: null,
          recallTimeout: -1,
        }),
      }))
      .filter((r) => r.result.status !== "safe")
      .map(
        (r) =>
          `${r.at} ${r.text} (${r.result.status}: ${"complexity" in r.result ? r.result.complexity.summary : ""})`,
      );
    expect(unsafe).toEqual([]);
  }, 120_000);
});
