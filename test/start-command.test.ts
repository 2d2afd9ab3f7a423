// The deployed start commands (`npm start`, the Dockerfile's CMD) run node with the same flags
// (the heap limit the README's "Memory" section explains), so the image behaves as measured.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');

describe('start commands', () => {
  it('npm start and the Dockerfile CMD give node the same flags and command', () => {
    const npmStart = pkg.scripts.start!.split(/\s+/);
    const cmdLine = /^CMD (\[.*\])\s*$/m.exec(dockerfile);
    expect(cmdLine, 'the Dockerfile has an exec-form CMD').not.toBeNull();
    const cmd = JSON.parse(cmdLine![1]!) as string[];
    expect(cmd).toEqual(npmStart);
    expect(npmStart).toContain('--max-old-space-size=512');
  });
});
