// One name per setting, the same in code, README and .env.example.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';

const read = (file: string) => readFileSync(join(import.meta.dirname, '..', file), 'utf8');

describe('configuration is documented', () => {
  it.each(CONFIG_VARIABLES)('%s is in .env.example and the README', (name) => {
    expect(read('.env.example')).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
    expect(read('README.md')).toContain(`\`${name}\``);
  });
});
