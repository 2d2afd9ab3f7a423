// SQL written once for both backends: a tagged template whose values become placeholders,
// `?` for SQLite and `$1, $2, …` for PostgreSQL. Interpolating a Query splices it in (with its
// values); raw() splices constant text (a status IN-list, a dialect's clause), never input.
export type Placeholders = 'sqlite' | 'postgres';

export class Query {
  constructor(
    readonly parts: readonly string[],
    readonly values: readonly unknown[],
  ) {}

  /** The text with this dialect's placeholders (PostgreSQL: numbered in order). */
  text(kind: Placeholders): string {
    let text = this.parts[0]!;
    for (let i = 1; i < this.parts.length; i++) text += (kind === 'sqlite' ? '?' : `$${i}`) + this.parts[i]!;
    return text;
  }
}

/** Constant SQL text to splice into a query. */
export class Raw {
  constructor(readonly text: string) {}
}

export const raw = (text: string): Raw => new Raw(text);

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Query {
  const parts = [strings[0]!];
  const params: unknown[] = [];
  values.forEach((value, i) => {
    const next = strings[i + 1]!;
    if (value instanceof Raw) parts[parts.length - 1] += value.text + next;
    else if (value instanceof Query) {
      parts[parts.length - 1] += value.parts[0]!;
      parts.push(...value.parts.slice(1));
      params.push(...value.values);
      parts[parts.length - 1] += next;
    } else {
      params.push(value);
      parts.push(next);
    }
  });
  return new Query(parts, params);
}

/** Queries joined with `separator` (an AND of conditions, a list). */
export function join(queries: readonly Query[], separator: string): Query {
  if (queries.length === 0) return new Query([''], []);
  const parts: string[] = [];
  const values: unknown[] = [];
  queries.forEach((q, i) => {
    if (i === 0) parts.push(...q.parts);
    else {
      parts[parts.length - 1] += separator + q.parts[0]!;
      parts.push(...q.parts.slice(1));
    }
    values.push(...q.values);
  });
  return new Query(parts, values);
}
