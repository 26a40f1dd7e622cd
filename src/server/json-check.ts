import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { createContextKey } from "@connectrpc/connect";

/** A JSON value that was dropped before decoding, and where it was. */
export interface Problem {
  /** e.g. ["items", 3, "options", "mode"] */
  path: (string | number)[];
  message: string;
}

/** The problems found in a request's JSON body (empty when it had none, or was not JSON). */
export const problemsKey = createContextKey<Problem[]>([]);

/**
 * Checks a JSON message against its descriptor, in place: an enum value that is
 * not one of the enum's names or numbers is removed and reported (protobuf's
 * lenient JSON reading would drop it without a word); an unknown key is removed
 * quietly (newer clients may send fields this server does not know). Pure apart
 * from editing `json`.
 */
export function jsonProblems(desc: DescMessage, json: unknown, path: (string | number)[] = []): Problem[] {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return [];
  const obj = json as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const key of Object.keys(obj)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field) {
      delete obj[key];
      continue;
    }
    const value = obj[key];
    const at = [...path, field.name];
    if (field.fieldKind === "list" && Array.isArray(value)) {
      value.forEach((v, i) => {
        if (field.listKind === "message") problems.push(...jsonProblems(field.message, v, [...at, i]));
        else if (field.listKind === "enum" && !knownEnum(field, v)) {
          problems.push(enumProblem(field, v, [...at, i]));
          value[i] = 0;
        }
      });
    } else if (field.fieldKind === "message") {
      problems.push(...jsonProblems(field.message, value, at));
    } else if (field.fieldKind === "enum" && !knownEnum(field, value)) {
      problems.push(enumProblem(field, value, at));
      delete obj[key];
    }
  }
  return problems;
}

function enumOf(field: DescField) {
  return field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum")
    ? field.enum
    : undefined;
}

function knownEnum(field: DescField, v: unknown): boolean {
  const e = enumOf(field);
  if (!e || v === null) return true;
  if (typeof v === "number") return Number.isInteger(v);
  return typeof v === "string" && e.values.some((x) => x.name === v);
}

function enumProblem(field: DescField, v: unknown, path: (string | number)[]): Problem {
  const names = enumOf(field)?.values.map((x) => x.name) ?? [];
  return {
    path,
    message: `${path.join(".")}: ${JSON.stringify(v)} is not a ${field.enum?.name ?? "enum"} value (one of ${names.join(", ")})`,
  };
}
