/**
 * Renders the option tables of docs/guide/ from the options tables in src/ (defaults, deprecated
 * names) and the TSDoc of the options interfaces (the prose), so that the docs cannot drift from
 * the code. `npm run docs:options` writes them; test/docs/option-tables.test.ts checks them.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import type { OptionSpec } from '../../src/options/table.js';

export interface OptionsFacade {
  /** The marker in the docs: `<!-- options: name -->` ... `<!-- /options -->`. */
  name: string;
  /** The guide the table lives in, relative to the repository. */
  doc: string;
  /** The source file declaring the options interface, relative to the repository. */
  source: string;
  interfaceName: string;
  table: Record<string, OptionSpec<unknown>>;
}

const root = new URL('../../', import.meta.url);

/** The markdown table of `facade`'s options, in the table's order. */
export function renderOptionTable(facade: OptionsFacade, program: ts.Program): string {
  const docs = propertyDocs(program, facade);
  const rows = Object.entries(facade.table).map(([name, spec]) => {
    const property = docs.get(name);
    if (property === undefined) throw new Error(`${facade.interfaceName} has no property ${name}`);
    let meaning = property.text;
    if (spec.deprecatedName !== undefined) meaning += ` Formerly \`${spec.deprecatedName}\`, still accepted with a deprecation warning.`;
    return `| \`${name}\` | ${defaultText(spec, property.optional)} | ${meaning.replaceAll('|', '\\|')} |`;
  });
  return ['| option | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** A program over every facade's source file, for their TSDoc. */
export function programFor(facades: OptionsFacade[]): ts.Program {
  const files = [...new Set(facades.map((facade) => new URL(facade.source, root).pathname))];
  return ts.createProgram(files, { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, noEmit: true });
}

/** `text` with the table of every facade it holds a marker for replaced by the rendered one. */
export function withTables(text: string, facades: OptionsFacade[], program: ts.Program): string {
  let result = text;
  for (const facade of facades) {
    const open = `<!-- options: ${facade.name} -->`;
    const start = result.indexOf(open);
    const end = result.indexOf('<!-- /options -->', start);
    if (start < 0 || end < 0) throw new Error(`${facade.doc} has no ${open} ... <!-- /options --> section`);
    result = `${result.slice(0, start + open.length)}\n${renderOptionTable(facade, program)}\n${result.slice(end)}`;
  }
  return result;
}

export function readDoc(doc: string): string {
  return readFileSync(new URL(doc, root), 'utf8');
}

export const docPath = (doc: string) => new URL(doc, root);

function propertyDocs(program: ts.Program, facade: OptionsFacade): Map<string, { text: string; optional: boolean }> {
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(new URL(facade.source, root).pathname);
  if (file === undefined) throw new Error(`cannot read ${facade.source}`);
  const declaration = file.statements.find(
    (statement): statement is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(statement) && statement.name.text === facade.interfaceName,
  );
  if (declaration === undefined) throw new Error(`${facade.source} declares no interface ${facade.interfaceName}`);
  const type = checker.getTypeAtLocation(declaration);
  const docs = new Map<string, { text: string; optional: boolean }>();
  for (const property of checker.getPropertiesOfType(type)) {
    const text = ts.displayPartsToString(property.getDocumentationComment(checker)).replace(/\s+/g, ' ').trim();
    docs.set(property.name, { text, optional: (property.flags & ts.SymbolFlags.Optional) !== 0 });
  }
  return docs;
}

function defaultText(spec: OptionSpec<unknown>, optional: boolean): string {
  if (spec.defaultDoc !== undefined) return spec.defaultDoc;
  const value = spec.default;
  if (value === undefined) return optional ? 'none' : 'required';
  if (value === Infinity) return 'none';
  if (typeof value === 'number') return value >= 10_000 ? value.toLocaleString('en-US') : String(value);
  if (typeof value === 'string') return `\`'${value}'\``;
  return `\`${String(value)}\``;
}
