// Emits the package's TypeScript declarations from the JSDoc of pkg/*.js (type-checking the JS
// on the way, with js/tsconfig.json), then takes out what is marked `@internal`:
//   node scripts/package-types.mjs     (for each of index.js, tokenizer.js, store.js, aws.js, fleet.js, probe.js, probe-sw.js in pkg/)
// tsc's own `stripInternal` does not apply to declarations emitted from JavaScript, so this does
// it: an `@internal` declaration (a function such as the endpoint's config with its secrets) or
// member is removed, an `@internal` constructor becomes `private constructor();` (results and
// tokenizers come from factories; `protected` when it is also `@protected`: the endpoint base
// class, which the package's classes extend), and imports left unused by the removals go too
// (e.g. the wasm-bindgen glue's types, which need a newer lib than consumers may have).
import path from "node:path";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";

// A full build (scripts/build.sh) emits them once, after every module is in pkg/.
if (process.env.LLMETER_DEFER_TYPES) process.exit(0);

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const PKG = path.join(ROOT, "pkg");
// All entries every time: a declaration left from an earlier run would be read instead of the JS
// it describes, so they are all removed first and all written again.
const entries = ["index.js", "tokenizer.js", "store.js", "aws.js", "fleet.js", "probe.js", "probe-sw.js"].filter((e) => existsSync(path.join(PKG, e)));

// (In sub-folders too: endpoints/, store/, fleet/.)
for (const file of readdirSync(path.join(ROOT, "js"), { recursive: true })) {
  if (file.endsWith(".js") && !file.includes("node_modules")) rmSync(path.join(PKG, file.replace(/\.js$/, ".d.ts")), { force: true });
}

const configPath = path.join(ROOT, "js/tsconfig.json");
const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
const { options } = ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(configPath));
const program = ts.createProgram(entries.map((e) => path.join(PKG, e)), options);

const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" };
const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length) {
  console.error(ts.formatDiagnostics(diagnostics, host));
  process.exit(1);
}

const emitted = [];
const result = program.emit(undefined, (fileName, text) => {
  writeFileSync(fileName, fileName.endsWith(".d.ts") ? stripInternal(fileName, text) : text);
  emitted.push(path.relative(ROOT, fileName));
});
if (result.diagnostics.length) {
  console.error(ts.formatDiagnostics(result.diagnostics, host));
  process.exit(1);
}
console.log(`[types] ${emitted.join(", ")}`);

/**
 * Where the comment right before `node` starts if it says `@internal`, else -1. Only that one:
 * a comment before it (a `@typedef` block, a file's header) belongs to something else.
 */
function internalStart(text, node) {
  const doc = (ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []).at(-1);
  if (!doc || !/@internal\b/.test(text.slice(doc.pos, doc.end))) return -1;
  // With its line's indentation and the line break before it, so no blank line is left.
  const lineBreak = text.lastIndexOf("\n", doc.pos - 1);
  return lineBreak >= 0 && /^[ \t]*$/.test(text.slice(lineBreak + 1, doc.pos)) ? lineBreak : doc.pos;
}

/** Applies `[start, end, replacement]` edits (non-overlapping) from the end backwards. */
function applyEdits(text, edits) {
  for (const [start, end, replacement] of edits.sort((a, b) => b[0] - a[0])) text = text.slice(0, start) + replacement + text.slice(end);
  return text;
}

export function stripInternal(fileName, text) {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const edits = [];
  for (const statement of source.statements) {
    const start = internalStart(text, statement);
    if (start >= 0) {
      edits.push([start, statement.end, ""]); // a whole declaration (function, class, const, type)
      continue;
    }
    if (!ts.isClassDeclaration(statement)) continue;
    for (const member of statement.members) {
      const from = internalStart(text, member);
      if (from < 0) continue;
      if (ts.isConstructorDeclaration(member)) {
        // No signature left to call; `protected` (JSDoc `@protected`) when the package's own
        // classes extend it, which a private constructor would forbid.
        const access = member.modifiers?.some((m) => m.kind === ts.SyntaxKind.ProtectedKeyword) ? "protected" : "private";
        const indent = text.slice(text.lastIndexOf("\n", member.getStart()) + 1, member.getStart());
        edits.push([from, member.end, `${text[from] === "\n" ? "\n" : ""}${indent}${access} constructor();`]);
      } else {
        edits.push([from, member.end, ""]);
      }
    }
  }
  const stripped = dropUnusedImports(fileName, applyEdits(text, edits));
  // A public declaration that still names a removed one would not compile for users.
  const removed = edits.flatMap(([start, end]) => declaredNames(ts.createSourceFile(fileName, text.slice(start, end), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS)));
  const code = stripComments(stripped);
  const left = removed.filter((name) => new RegExp(`\\b${name}\\b`).test(code));
  if (left.length) throw new Error(`${fileName}: @internal ${left.join(", ")} still referenced by its public declarations`);
  return stripped;
}

/** Names declared at the top level of `source` (functions, classes, variables, types). */
function declaredNames(source) {
  return source.statements.flatMap((s) =>
    ts.isVariableStatement(s) ? s.declarationList.declarations.map((d) => d.name.getText()) : s.name && !ts.isConstructorDeclaration(s) ? [s.name.getText()] : []);
}

function dropUnusedImports(fileName, text) {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const edits = [];
  for (const statement of source.statements) {
    const bindings = ts.isImportDeclaration(statement) ? statement.importClause?.namedBindings : undefined;
    if (!bindings || !ts.isNamedImports(bindings) || statement.importClause.name) continue;
    const rest = text.slice(0, statement.getFullStart()) + text.slice(statement.end);
    const used = bindings.elements.filter((e) => new RegExp(`\\b${e.name.text}\\b`).test(stripComments(rest)));
    if (used.length === bindings.elements.length) continue;
    const replacement = used.length === 0 ? "" : `\nimport { ${used.map((e) => e.getText()).join(", ")} } from ${statement.moduleSpecifier.getText()};`;
    edits.push([statement.getFullStart(), statement.end, replacement]);
  }
  return applyEdits(text, edits);
}

/** Code without comments (JSDoc may mention a name the code no longer uses). */
function stripComments(text) {
  const scanner = ts.createScanner(ts.ScriptTarget.ES2022, true, ts.LanguageVariant.Standard, text);
  let out = "";
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) out += scanner.getTokenText() + " ";
  return out;
}
