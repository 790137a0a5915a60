/**
 * Drive's `q` search language, the part importers use: `'<id>' in parents`, `trashed = false`,
 * `mimeType = / != / contains '...'`, `name = / != / contains '...'`, `modifiedTime < > <= >= '...'`,
 * `and`, `or`, `not`, parentheses. Anything else is a syntax error (Drive's 400 invalid).
 */
import type { DriveItem } from './tree.ts';

type Node =
  | { op: 'and' | 'or'; left: Node; right: Node }
  | { op: 'not'; inner: Node }
  | { op: 'inParents'; id: string }
  | { op: 'cmp'; field: 'name' | 'mimeType' | 'trashed' | 'modifiedTime' | 'starred'; cmp: string; value: string | boolean };

export class QuerySyntaxError extends Error {}

type Token = { kind: 'str'; value: string } | { kind: 'word'; value: string } | { kind: 'sym'; value: string };

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const ch = q[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "'" || ch === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= q.length) throw new QuerySyntaxError('unterminated string');
        const c = q[i]!;
        if (c === '\\' && i + 1 < q.length) {
          value += q[i + 1];
          i += 2;
        } else if (c === ch) {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      tokens.push({ kind: 'str', value });
    } else if (ch === '(' || ch === ')') {
      tokens.push({ kind: 'sym', value: ch });
      i++;
    } else if ('=!<>'.includes(ch)) {
      const two = q.slice(i, i + 2);
      if (two === '!=' || two === '<=' || two === '>=') {
        tokens.push({ kind: 'sym', value: two });
        i += 2;
      } else if (ch === '!') {
        throw new QuerySyntaxError('unexpected !');
      } else {
        tokens.push({ kind: 'sym', value: ch });
        i++;
      }
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(q.slice(i));
      if (!m) throw new QuerySyntaxError(`unexpected ${ch}`);
      tokens.push({ kind: 'word', value: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

const FIELDS: Record<string, Extract<Node, { op: 'cmp' }>['field']> = {
  name: 'name',
  mimetype: 'mimeType',
  trashed: 'trashed',
  modifiedtime: 'modifiedTime',
  starred: 'starred',
};
const STRING_OPS = new Set(['=', '!=', 'contains']);
const TIME_OPS = new Set(['=', '!=', '<', '<=', '>', '>=']);
const BOOL_OPS = new Set(['=', '!=']);

export function parseQuery(q: string): Node {
  const tokens = tokenize(q);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (t: Token | undefined, w: string) => t?.kind === 'word' && t.value.toLowerCase() === w;

  function or(): Node {
    let left = and();
    while (isWord(peek(), 'or')) {
      pos++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  }
  function and(): Node {
    let left = unary();
    while (isWord(peek(), 'and')) {
      pos++;
      left = { op: 'and', left, right: unary() };
    }
    return left;
  }
  function unary(): Node {
    if (isWord(peek(), 'not')) {
      pos++;
      return { op: 'not', inner: unary() };
    }
    return primary();
  }
  function primary(): Node {
    const t = tokens[pos++];
    if (!t) throw new QuerySyntaxError('unexpected end of query');
    if (t.kind === 'sym' && t.value === '(') {
      const inner = or();
      const close = tokens[pos++];
      if (close?.kind !== 'sym' || close.value !== ')') throw new QuerySyntaxError('missing )');
      return inner;
    }
    if (t.kind === 'str') {
      if (!isWord(tokens[pos], 'in')) throw new QuerySyntaxError('expected in');
      pos++;
      const target = tokens[pos++];
      if (target?.kind !== 'word' || target.value !== 'parents') throw new QuerySyntaxError('only "in parents" is supported');
      return { op: 'inParents', id: t.value };
    }
    if (t.kind === 'word') {
      const field = FIELDS[t.value.toLowerCase()];
      if (!field) throw new QuerySyntaxError(`unknown field ${t.value}`);
      const opToken = tokens[pos++];
      const cmp = opToken?.kind === 'sym' ? opToken.value : opToken?.kind === 'word' ? opToken.value.toLowerCase() : '';
      const valueToken = tokens[pos++];
      if (field === 'trashed' || field === 'starred') {
        if (!BOOL_OPS.has(cmp) || valueToken?.kind !== 'word' || !/^(true|false)$/i.test(valueToken.value)) {
          throw new QuerySyntaxError(`${field} takes = or != true/false`);
        }
        return { op: 'cmp', field, cmp, value: valueToken.value.toLowerCase() === 'true' };
      }
      const ops = field === 'modifiedTime' ? TIME_OPS : STRING_OPS;
      if (!ops.has(cmp) || valueToken?.kind !== 'str') throw new QuerySyntaxError(`bad comparison on ${field}`);
      return { op: 'cmp', field, cmp, value: valueToken.value };
    }
    throw new QuerySyntaxError(`unexpected ${t.value}`);
  }

  if (tokens.length === 0) throw new QuerySyntaxError('empty query');
  const node = or();
  if (pos !== tokens.length) throw new QuerySyntaxError('trailing input');
  return node;
}

function evaluate(node: Node, item: DriveItem): boolean {
  switch (node.op) {
    case 'and':
      return evaluate(node.left, item) && evaluate(node.right, item);
    case 'or':
      return evaluate(node.left, item) || evaluate(node.right, item);
    case 'not':
      return !evaluate(node.inner, item);
    case 'inParents':
      return item.parents.includes(node.id);
    case 'cmp': {
      const actual = node.field === 'starred' ? false : item[node.field];
      const v = node.value;
      switch (node.cmp) {
        case '=':
          return actual === v;
        case '!=':
          return actual !== v;
        case 'contains':
          return typeof actual === 'string' && typeof v === 'string' && actual.includes(v);
        case '<':
          return Date.parse(String(actual)) < Date.parse(String(v));
        case '<=':
          return Date.parse(String(actual)) <= Date.parse(String(v));
        case '>':
          return Date.parse(String(actual)) > Date.parse(String(v));
        case '>=':
          return Date.parse(String(actual)) >= Date.parse(String(v));
        default:
          return false;
      }
    }
  }
}

/**
 * Parent ids that every match must have one of (so listing looks at their children only), or null
 * when the query does not restrict parents.
 */
function parentsOf(node: Node): string[] | null {
  switch (node.op) {
    case 'inParents':
      return [node.id];
    case 'or': {
      const l = parentsOf(node.left);
      const r = parentsOf(node.right);
      return l && r ? [...l, ...r] : null;
    }
    case 'and':
      return parentsOf(node.left) ?? parentsOf(node.right);
    default:
      return null;
  }
}

export interface CompiledQuery {
  matches(item: DriveItem): boolean;
  /** Candidate parents in query order, or null: scan everything. */
  parents: string[] | null;
}

export function compileQuery(q: string | null): CompiledQuery {
  if (q === null || q.trim() === '') return { matches: () => true, parents: null };
  const node = parseQuery(q);
  return { matches: (item) => evaluate(node, item), parents: parentsOf(node) };
}
