// Where in a mapping file's YAML a problem is: syntax errors at the line the author got wrong,
// and the line and column of a key path, for every problem the loader and `aftercall test` report.
import { isNode, type Document, type LineCounter } from 'yaml';
import type { MappingProblem } from './load-mappings.js';

/**
 * YAML syntax errors, each once, at the line the author got wrong: for a key indented deeper
 * than the one above it, the yaml library reports the line above ("nested mappings are not
 * allowed in compact mappings"); the line at fault is the one after it.
 */
export function yamlProblems(doc: Document, source: string, file: string, lineCounter: LineCounter): MappingProblem[] {
  const seen = new Set<string>();
  const out: MappingProblem[] = [];
  for (const e of doc.errors) {
    let offset = e.pos[0];
    let message = e.message.split('\n')[0] ?? e.message;
    if (e.code === 'BLOCK_AS_IMPLICIT_KEY' || e.code === 'MULTILINE_IMPLICIT_KEY') {
      // Only when the value runs on to the next line (`a: b: c` on one line is another mistake).
      const next = source.indexOf('\n', e.pos[0]);
      const end = Math.max(...doc.errors.filter((o) => o.pos[0] === e.pos[0]).map((o) => o.pos[1]));
      if (next >= 0 && next < end) {
        offset = next + 1 + (/^[ \t]*/.exec(source.slice(next + 1))?.[0].length ?? 0);
        message = 'this line is indented deeper than the key above it: keys of one mapping start in the same column, and a nested key needs its parent to end in ":"';
      }
    } else if (e.code === 'BAD_INDENT' || e.code === 'MISSING_CHAR') {
      // Reported at the start of the line: point at the first character written there.
      offset += /^[ \t]*/.exec(source.slice(offset))?.[0].length ?? 0;
      if (e.code === 'BAD_INDENT') message += ' (this line is indented differently from the key above it)';
    }
    const pos = lineCounter.linePos(offset);
    const id = `${pos.line}:${pos.col}:${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ file, line: pos.line, column: pos.col, key: '', message, code: 'yaml-syntax' });
  }
  return out;
}

/** Offset of the deepest existing node on `path` (a key without a value points at the key). */
export function nodeOffset(doc: Document, path: Array<string | number>): number {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
    const key = n > 0 ? keyOffset(doc, path.slice(0, n)) : undefined;
    if (key !== undefined) return key;
  }
  return 0;
}

/** Offset of the key itself of the last element of `path`, when it is a mapping key. */
export function keyOffset(doc: Document, path: Array<string | number>): number | undefined {
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  const items = (parent as { items?: Array<{ key?: { value?: unknown; range?: number[] } }> } | null)?.items;
  return items?.find((item) => item.key?.value === path[path.length - 1])?.key?.range?.[0];
}
