/**
 * Precedence parser from tokens to a syntax tree.
 * Loosest to tightest: list (, and or) > relation (= < \in) > set operation (\cup) >
 * sum (+ - \pm) > product (explicit, implicit, / and ratio :) > unary minus > power > postfix (! % °).
 */
import type { Node } from "./ast.js";
import { type Budget, TooDeep } from "./budget.js";
import { parseDecimal } from "./rational.js";
import { FUNCTIONS, type Token } from "./tokenize.js";

export class ParseError extends Error {}

export const MAX_DEPTH = 60;

const REL_OPS = new Set(["=", "<", ">", "<=", ">=", "!=", "~=", "in", "->"]);
const CONSTANTS: Record<string, "pi" | "inf"> = { pi: "pi", inf: "inf" };

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly toks: Token[],
    private readonly budget?: Budget,
  ) {}

  parseTop(): Node {
    const node = this.list(new Set());
    if (this.pos < this.toks.length) throw new ParseError(`unexpected ${this.peek()?.s}`);
    return node;
  }

  private peek(offset = 0): Token | undefined {
    return this.toks[this.pos + offset];
  }

  private isOp(s: string, tok = this.peek()): boolean {
    return tok?.t === "op" && tok.s === s;
  }

  private next(): Token {
    const tok = this.toks[this.pos++];
    if (!tok) throw new ParseError("unexpected end");
    return tok;
  }

  private expectClose(s: string): void {
    const tok = this.next();
    if (tok.t !== "close" || tok.s !== s) throw new ParseError(`expected ${s}`);
  }

  private enter(): void {
    this.budget?.check();
    if (++this.depth > MAX_DEPTH) throw new TooDeep();
  }

  /** Items separated by commas, semicolons, "and", "or". Words around items are kept as text nodes. */
  private list(stop: Set<string>): Node {
    const items: Node[] = [];
    let sep: "," | "or" | "and" = ",";
    for (;;) {
      items.push(this.item(stop));
      const tok = this.peek();
      if (tok?.t === "op" && (tok.s === "," || tok.s === ";" || tok.s === "and" || tok.s === "or")) {
        if (tok.s === "or") sep = "or";
        else if (tok.s === "and" && sep === ",") sep = "and";
        this.pos++;
        continue;
      }
      break;
    }
    return items.length === 1 ? (items[0] as Node) : { k: "list", items, sep };
  }

  /** One list item: prose words, then maybe a relation, then maybe trailing prose. */
  private item(stop: Set<string>): Node {
    const words: string[] = [];
    while (this.peek()?.t === "word") words.push(this.next().s);
    const tok = this.peek();
    if (!tok || this.atItemEnd(stop)) {
      if (words.length === 0) throw new ParseError("empty item");
      return { k: "text", words };
    }
    // "Sequence 1: ..." and "Paolo: 18" are labels, not ratios.
    if (words.length > 0 && (this.isOp(":") || (tok.t === "num" && this.isOp(":", this.peek(1))))) {
      this.pos += this.isOp(":") ? 1 : 2;
      const value = this.relation();
      return { k: "rel", ops: ["label"], items: [{ k: "text", words }, this.trailing(value, [], stop)] };
    }
    if (words.length > 0 && this.isOp("=")) {
      this.pos++;
      const value = this.relation();
      return this.trailing({ k: "rel", ops: ["="], items: [{ k: "text", words }, value] }, [], stop);
    }
    const node = this.relation();
    return this.trailing(node, words, stop);
  }

  private trailing(node: Node, lead: string[], stop: Set<string>): Node {
    const tail: string[] = [];
    // Prose after the math ("for all integers n", units) starts with a word and runs to the end of
    // the item; anything else left over ("3 5") is not an answer we can read.
    const first = this.peek();
    if (first && !this.atItemEnd(stop) && first.t !== "word") throw new ParseError(`unexpected ${first.s}`);
    while (this.peek() && !this.atItemEnd(stop)) {
      const tok = this.next();
      tail.push(tok.s);
    }
    if (lead.length === 0 && tail.length === 0) return node;
    return { k: "rel", ops: ["with-prose"], items: [node, { k: "text", words: tail, lead }] };
  }

  private atItemEnd(stop: Set<string>): boolean {
    const tok = this.peek();
    if (!tok) return true;
    if (tok.t === "close") return true;
    if (tok.t === "op" && (tok.s === "," || tok.s === ";" || tok.s === "and" || tok.s === "or")) return true;
    return stop.has(tok.s);
  }

  private relation(): Node {
    this.enter();
    const items: Node[] = [this.setExpr()];
    const ops: string[] = [];
    while (this.peek()?.t === "op" && REL_OPS.has(this.peek()?.s as string)) {
      ops.push(this.next().s);
      items.push(this.setExpr());
    }
    this.depth--;
    return ops.length === 0 ? (items[0] as Node) : { k: "rel", ops, items };
  }

  private setExpr(): Node {
    let a = this.sum();
    for (;;) {
      const tok = this.peek();
      if (tok?.t === "op" && (tok.s === "cup" || tok.s === "cap" || tok.s === "minus")) {
        this.pos++;
        a = { k: "setop", op: tok.s, a, b: this.sum() };
      } else return a;
    }
  }

  private sum(): Node {
    this.enter();
    let a: Node | undefined;
    if (this.isOp("pm") || this.isOp("mp")) {
      const minusFirst = this.next().s === "mp";
      a = { k: "pm", b: this.product(), minusFirst };
    } else a = this.product();
    for (;;) {
      const tok = this.peek();
      if (tok?.t !== "op") break;
      if (tok.s === "+" || tok.s === "-") {
        this.pos++;
        a = { k: "bin", op: tok.s, a, b: this.product() };
      } else if (tok.s === "pm" || tok.s === "mp") {
        this.pos++;
        a = { k: "pm", a, b: this.product(), minusFirst: tok.s === "mp" };
      } else break;
    }
    this.depth--;
    return a;
  }

  private product(): Node {
    let a = this.unary();
    for (;;) {
      const tok = this.peek();
      if (tok?.t === "op" && (tok.s === "*" || tok.s === "/" || tok.s === ":")) {
        this.pos++;
        a = { k: "bin", op: tok.s === "*" ? "*" : "/", a, b: this.unary() };
      } else if (tok && this.startsFactor(tok)) {
        a = this.implicit(a);
      } else return a;
    }
  }

  /** Implicit product; an integer directly followed by \frac{int}{int} is a mixed number. */
  private implicit(a: Node): Node {
    const b = this.unary();
    if (
      a.k === "num" &&
      a.decimals === undefined &&
      b.k === "bin" &&
      b.op === "/" &&
      b.a.k === "num" &&
      b.b.k === "num" &&
      b.a.decimals === undefined &&
      b.b.decimals === undefined &&
      b.frac
    ) {
      return { k: "bin", op: "+", a, b };
    }
    return { k: "bin", op: "*", a, b };
  }

  /** Whether a token can begin the next factor of an implicit product. "3 5" is not 15: no number. */
  private startsFactor(tok: Token): boolean {
    if (tok.t === "id") return true;
    if (tok.t === "env") return tok.begin;
    if (tok.t === "cmd") return true;
    return tok.t === "open";
  }

  private unary(): Node {
    this.enter();
    let node: Node;
    if (this.isOp("-")) {
      this.pos++;
      node = { k: "neg", a: this.unary() };
    } else if (this.isOp("+")) {
      this.pos++;
      node = this.unary();
    } else node = this.power();
    this.depth--;
    return node;
  }

  private power(): Node {
    const base = this.postfix(this.primary());
    if (this.isOp("^")) {
      this.pos++;
      const exp = this.scriptArg();
      // Degrees written as ^{\circ} inside a larger superscript already became a unit.
      return this.postfix({ k: "bin", op: "^", a: base, b: exp });
    }
    return base;
  }

  private postfix(a: Node): Node {
    for (;;) {
      if (this.isOp("!")) {
        this.pos++;
        a = { k: "call", fn: "fact", args: [a] };
      } else if (this.isOp("deg") || this.isOp("pct")) {
        a = { k: "unit", unit: this.next().s as "deg" | "pct", a };
      } else if (this.isOp("'")) {
        this.pos++;
        a = { k: "opaque", s: "prime" };
      } else return a;
    }
  }

  /** Argument of ^ or _: a braced group, one digit of a number, or one atom. */
  private scriptArg(): Node {
    this.enter();
    const tok = this.peek();
    let node: Node;
    if (tok?.t === "num" && /^\d+$/.test(tok.s)) {
      // x^23 and a_10 take the whole number: TeX would not, but plain-text answers mean 2^10 = 1024.
      this.pos++;
      node = this.number(tok.s);
    } else if (tok?.t === "op" && (tok.s === "-" || tok.s === "+")) {
      this.pos++;
      const inner = this.scriptArg();
      node = tok.s === "-" ? { k: "neg", a: inner } : inner;
    } else if (tok?.t === "op" && tok.s === "deg") {
      this.pos++;
      node = { k: "opaque", s: "deg" };
    } else node = this.primary();
    this.depth--;
    return node;
  }

  private number(s: string): Node {
    const d = parseDecimal(s);
    if (!d) throw new ParseError(`bad number ${s}`);
    return s.includes(".") || /e/i.test(s)
      ? { k: "num", v: d.value, decimals: d.decimals, text: s }
      : { k: "num", v: d.value, text: s };
  }

  private primary(): Node {
    this.enter();
    const node = this.primaryInner();
    this.depth--;
    return node;
  }

  private primaryInner(): Node {
    const tok = this.next();
    switch (tok.t) {
      case "num":
        return this.number(tok.s);
      case "id":
        return this.identifier(tok.s);
      case "cmd":
        return this.command(tok.s);
      case "open":
        return this.bracket(tok.s);
      case "env":
        if (!tok.begin) throw new ParseError("stray \\end");
        return this.environment(tok.s);
      case "op":
        if (tok.s === "|") return this.delimited("|", "abs");
        if (tok.s === "-" || tok.s === "+") {
          this.pos--;
          return this.unary();
        }
        throw new ParseError(`unexpected ${tok.s}`);
      default:
        throw new ParseError(`unexpected ${tok.s}`);
    }
  }

  private identifier(s: string): Node {
    if (s === "...") return { k: "opaque", s };
    const c = CONSTANTS[s];
    if (c) return { k: "const", name: c };
    if (s === "e") return { k: "const", name: "e" };
    if (s === "i") return { k: "const", name: "i" };
    let name = s;
    if (this.isOp("_")) {
      this.pos++;
      name += `_${subscriptText(this.scriptArg())}`;
    }
    return { k: "sym", name };
  }

  private bracket(open: string): Node {
    if (open === "floor" || open === "ceil") {
      const inner = this.list(new Set());
      this.expectClose(open);
      return { k: "call", fn: open, args: [inner] };
    }
    if (open === "{") {
      const inner = this.list(new Set());
      this.expectClose("}");
      return inner;
    }
    if (open === "{set") return this.setLiteral();
    const items: Node[] = [this.list(new Set())];
    const close = this.next();
    if (close.t !== "close" || (close.s !== ")" && close.s !== "]"))
      throw new ParseError(`expected closing bracket, got ${close.s}`);
    const inner = items[0] as Node;
    const parts = inner.k === "list" && inner.sep === "," ? inner.items : [inner];
    if (parts.length === 1) {
      if (inner.k === "list") throw new ParseError("alternatives in brackets");
      if ((open === "(" && close.s === ")") || (open === "[" && close.s === "]")) return inner;
      throw new ParseError("mismatched brackets around one item");
    }
    return { k: "group", open: open as "(" | "[", close: close.s as ")" | "]", items: parts };
  }

  private setLiteral(): Node {
    if (this.peek()?.t === "close" && this.peek()?.s === "}set") {
      this.pos++;
      return { k: "set", items: [] };
    }
    const first = this.list(new Set(["|", ":"]));
    if (this.isOp("|") || this.isOp(":")) {
      this.pos++;
      const cond = this.list(new Set());
      this.expectClose("}set");
      return { k: "builder", v: first, cond };
    }
    this.expectClose("}set");
    return { k: "set", items: first.k === "list" ? first.items : [first] };
  }

  /** |x| and friends: parse until the matching delimiter. */
  private delimited(close: string, fn: string): Node {
    const inner = this.sum();
    if (!this.isOp(close)) throw new ParseError(`expected ${close}`);
    this.pos++;
    return { k: "call", fn, args: [inner] };
  }

  /** A required {group} or single atom argument of \frac, \sqrt, \binom. */
  private arg(): Node {
    const tok = this.peek();
    if (tok?.t === "open" && tok.s === "{") {
      this.pos++;
      const inner = this.list(new Set());
      this.expectClose("}");
      return inner;
    }
    if (tok?.t === "num" && tok.s.length > 1 && /^\d+$/.test(tok.s)) {
      // \frac12: one digit per argument.
      this.toks[this.pos] = { t: "num", s: tok.s.slice(1) };
      return this.number(tok.s.slice(0, 1));
    }
    return this.primary();
  }

  private command(name: string): Node {
    if (name === "frac") {
      const a = this.arg();
      const b = this.arg();
      return { k: "bin", op: "/", a, b, frac: true };
    }
    if (name === "binom") return { k: "call", fn: "binom", args: [this.arg(), this.arg()] };
    if (name === "sqrt") {
      if (this.peek()?.t === "open" && this.peek()?.s === "[") {
        this.pos++;
        const index = this.sum();
        this.expectClose("]");
        return { k: "call", fn: "root", args: [this.arg(), index] };
      }
      return { k: "call", fn: "sqrt", args: [this.arg()] };
    }
    if (name === "exp" || FUNCTIONS.has(name)) return this.func(name);
    if (name === "operatorname") throw new ParseError("operatorname");
    throw new ParseError(`unknown command \\${name}`);
  }

  /** \sin x, \sin^2 x, \sin^{-1} x, \log_2 x, \ln(x), max(a, b). */
  private func(name: string): Node {
    let fn = name;
    let power: Node | undefined;
    let base: Node | undefined;
    if (this.isOp("_")) {
      this.pos++;
      base = this.scriptArg();
    }
    if (this.isOp("^")) {
      this.pos++;
      power = this.scriptArg();
      if (power.k === "neg" && power.a.k === "num" && power.a.text === "1") {
        fn = INVERSE[fn] ?? fn;
        if (fn === name) throw new ParseError(`no inverse for ${name}`);
        power = undefined;
      }
    }
    let args: Node[];
    const tok = this.peek();
    if (tok?.t === "open" && tok.s === "(") {
      this.pos++;
      const inner = this.list(new Set());
      this.expectClose(")");
      args = inner.k === "list" && inner.sep === "," ? inner.items : [inner];
    } else {
      // Unbracketed argument binds a product of atoms: \sin 2x is sin(2x).
      let a = this.power();
      while (this.peek() && this.startsFactor(this.peek() as Token) && this.peek()?.t !== "cmd")
        a = { k: "bin", op: "*", a, b: this.power() };
      args = [a];
    }
    if (base) args = [...args, base];
    let node: Node = { k: "call", fn, args };
    if (power) node = { k: "bin", op: "^", a: node, b: power };
    return node;
  }

  private environment(env: string): Node {
    if (!/^(?:[pbvBV]?matrix|smallmatrix|pmatrix)$/.test(env)) throw new ParseError(`environment ${env}`);
    const rows: Node[][] = [];
    let row: Node[] = [];
    for (;;) {
      const tok = this.peek();
      if (!tok) throw new ParseError("unterminated matrix");
      if (tok.t === "env" && !tok.begin) {
        this.pos++;
        break;
      }
      if (this.isOp("\\\\")) {
        this.pos++;
        if (row.length) rows.push(row);
        row = [];
        continue;
      }
      if (this.isOp("&")) {
        this.pos++;
        continue;
      }
      row.push(this.sum());
    }
    if (row.length) rows.push(row);
    if (rows.length === 0 || rows.some((r) => r.length !== (rows[0] as Node[]).length))
      throw new ParseError("ragged matrix");
    return { k: "matrix", rows };
  }
}

const INVERSE: Record<string, string> = {
  sin: "arcsin",
  cos: "arccos",
  tan: "arctan",
  cot: "arccot",
};

function subscriptText(node: Node): string {
  switch (node.k) {
    case "num":
      return node.text;
    case "sym":
      return node.name;
    case "const":
      return node.name;
    case "bin":
      return `${subscriptText(node.a)}${node.op}${subscriptText(node.b)}`;
    case "neg":
      return `-${subscriptText(node.a)}`;
    default:
      return node.k;
  }
}

export function parseTokens(toks: Token[], budget?: Budget): Node {
  if (toks.length === 0) throw new ParseError("empty");
  return new Parser(toks, budget).parseTop();
}
