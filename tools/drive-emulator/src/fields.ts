/**
 * Drive's partial-response `fields` parameter: `nextPageToken,files(id,name,imageMediaMetadata(width))`,
 * `files/id`, `*`. A selection is a tree; `true` means "the whole value".
 */
export type Selection = Map<string, Selection | true>;

export class FieldsSyntaxError extends Error {}

export function parseFields(text: string): Selection {
  let pos = 0;
  function list(nested: boolean): Selection {
    const sel: Selection = new Map();
    for (;;) {
      while (text[pos] === ' ') pos++;
      const m = /^[A-Za-z_*][A-Za-z0-9_]*(\/[A-Za-z_*][A-Za-z0-9_]*)*/.exec(text.slice(pos));
      if (!m) throw new FieldsSyntaxError(`Invalid field selection ${text}`);
      pos += m[0].length;
      while (text[pos] === ' ') pos++;
      let value: Selection | true = true;
      if (text[pos] === '(') {
        pos++;
        value = list(true);
        if (text[pos] !== ')') throw new FieldsSyntaxError(`Invalid field selection ${text}`);
        pos++;
      }
      // a/b/c(x) is a(b(c(x)))
      const path = m[0].split('/');
      let target = sel;
      for (const key of path.slice(0, -1)) {
        const existing = target.get(key);
        if (existing === true) break;
        const next: Selection = existing ?? new Map();
        target.set(key, next);
        target = next;
      }
      merge(target, path[path.length - 1]!, value);
      while (text[pos] === ' ') pos++;
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (nested ? text[pos] === ')' : pos === text.length) return sel;
      throw new FieldsSyntaxError(`Invalid field selection ${text}`);
    }
  }
  return list(false);
}

function merge(sel: Selection, key: string, value: Selection | true): void {
  const existing = sel.get(key);
  if (existing === true || value === true || existing === undefined) {
    sel.set(key, existing === true || value === true ? true : value);
    return;
  }
  for (const [k, v] of value) merge(existing, k, v);
}

/** Keep only the selected keys (recursively; arrays are projected element by element). */
export function project(value: unknown, sel: Selection | true): unknown {
  if (sel === true || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => project(v, sel));
  if (sel.has('*')) return value;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of sel) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = project(v, sub);
  }
  return out;
}
