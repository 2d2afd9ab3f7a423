// The measured servers run as JavaScript, the way `npm start` runs dist/, not under tsx: tsx's
// loader (in the main thread and again in the SQLite thread, which registers it for itself)
// costs tens of MB of resident memory that a deployed service does not have, and the RSS figure
// is about the deployed service. Each TypeScript file of src/ and of the bench servers is
// transpiled on its own (typescript's transpileModule: types dropped, nothing checked, about a
// second) into the bench's temp dir, which gets a package.json (ESM) and a node_modules link to
// the checkout's, so imports resolve as in the checkout. The stub vendors stay on tsx (they
// import the tests' support code and are not measured).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from './child.js';

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  sourceMap: false,
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Transpiles src/ and the given bench server scripts into `outDir`; returns how many files. */
export function buildServers(outDir: string, serverScripts: string[]): number {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  // A link, not a copy; removing the temp dir (rmSync, recursive) removes the link, never its target.
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  const files = [...filesUnder(join(ROOT, 'src')), ...serverScripts];
  for (const file of files) {
    const rel = relative(ROOT, file);
    const target = join(outDir, rel);
    mkdirSync(dirname(target), { recursive: true });
    if (file.endsWith('.ts') && !file.endsWith('.d.ts')) {
      const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: COMPILER_OPTIONS, fileName: file });
      writeFileSync(target.replace(/\.ts$/, '.js'), outputText);
    } else if (!file.endsWith('.d.ts')) {
      copyFileSync(file, target);
    }
  }
  return files.length;
}

/** Where a bench server script (…/bench/servers/x.ts) lands in the build. */
export function builtScript(outDir: string, script: string): string {
  return join(outDir, relative(ROOT, script)).replace(/\.ts$/, '.js');
}
