// The active mapping set, plus every version loaded during this process, so a run always
// executes the mapping version it was planned with.
import type { CompiledMapping, MappingProblem } from './load-mappings.js';

export class MappingRegistry {
  private active: readonly CompiledMapping[] = [];
  private activeProblems: readonly MappingProblem[] = [];
  private readonly versions = new Map<string, CompiledMapping>();

  constructor(mappings: readonly CompiledMapping[] = []) {
    this.replace(mappings);
  }

  /**
   * Swaps the whole set at once; callers never see half of a reload. `problems` are those
   * of files whose last good version stays active (shown by /readyz).
   */
  replace(mappings: readonly CompiledMapping[], problems: readonly MappingProblem[] = []): void {
    for (const m of mappings) this.versions.set(versionKey(m.name, m.hash), m);
    this.active = Object.freeze([...mappings]);
    this.activeProblems = Object.freeze([...problems]);
  }

  problems(): readonly MappingProblem[] {
    return this.activeProblems;
  }

  current(): readonly CompiledMapping[] {
    return this.active;
  }

  /** The exact version a run was planned with, else the current one of that name. */
  resolve(name: string, hash: string): CompiledMapping | null {
    return this.versions.get(versionKey(name, hash)) ?? this.active.find((m) => m.name === name) ?? null;
  }
}

const versionKey = (name: string, hash: string) => `${name}@${hash}`;
