/** The SQLite and SQL Server schemas describe one data model; SQL Server's rules hold. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const read = (provider: string) => readFileSync(new URL(`../../prisma/${provider}/schema.prisma`, import.meta.url), 'utf8');

interface Field {
  name: string;
  type: string;
  attributes: string;
  db: string | null;
}

/** Models -> fields (type and attributes, without @db.* which only SQL Server has) and block attributes. */
function parseModels(schema: string) {
  const models = new Map<string, { fields: Field[]; block: string[] }>();
  for (const [, name, body] of schema.matchAll(/^model (\w+) \{\n([\s\S]*?)^\}/gm)) {
    const fields: Field[] = [];
    const block: string[] = [];
    for (const raw of body!.split('\n')) {
      const line = raw.replace(/\/\/.*$/, '').trim();
      if (!line) continue;
      if (line.startsWith('@@')) {
        block.push(line);
        continue;
      }
      const m = /^(\w+)\s+(\S+)\s*(.*)$/.exec(line);
      assert.ok(m, `unparsed line in model ${name}: ${line}`);
      const db = /@db\.\w+(\([^)]*\))?/.exec(m[3]!)?.[0] ?? null;
      fields.push({ name: m[1]!, type: m[2]!, attributes: m[3]!.replace(/@db\.\w+(\([^)]*\))?/, '').replace(/\s+/g, ' ').trim(), db });
    }
    models.set(name!, { fields, block });
  }
  return models;
}

const sqlite = parseModels(read('sqlite'));
const sqlserver = parseModels(read('sqlserver'));

test('both schemas have the same models, fields, types, relations and indexes', () => {
  assert.deepEqual([...sqlite.keys()], ['ImportJob', 'Batch', 'File', 'StoredObject', 'ApiToken', 'WebhookDelivery', 'Activity']);
  assert.deepEqual([...sqlserver.keys()], [...sqlite.keys()]);
  for (const [name, model] of sqlite) {
    const other = sqlserver.get(name)!;
    assert.deepEqual(
      other.fields.map(({ name, type, attributes }) => ({ name, type, attributes })),
      model.fields.map(({ name, type, attributes }) => ({ name, type, attributes })),
      `fields of ${name}`,
    );
    assert.deepEqual(other.block, model.block, `@@ attributes of ${name}`);
  }
  for (const model of sqlite.values()) assert.ok(model.fields.every((f) => f.db === null), 'no @db attributes in the SQLite schema');
});

test('the SQL Server schema follows SQL Server rules', () => {
  const schema = read('sqlserver');
  assert.doesNotMatch(schema, /^enum /m, 'no enums');
  assert.doesNotMatch(schema, /\sJson\??\s/, 'no Json');
  for (const [name, model] of sqlserver) {
    const keyed = new Set<string>();
    for (const f of model.fields) if (/@id|@unique/.test(f.attributes)) keyed.add(f.name);
    for (const b of model.block) for (const [, list] of b.matchAll(/\[([\w, ]+)\]/g)) for (const f of list!.split(',')) keyed.add(f.trim());
    for (const f of model.fields) {
      assert.ok(!f.type.endsWith('[]') || /^[A-Z]\w*\[\]$/.test(f.type) && sqlserver.has(f.type.slice(0, -2)), `${name}.${f.name}: no scalar lists`);
      if (f.type.startsWith('String')) {
        assert.ok(f.db, `${name}.${f.name}: every string is sized`);
        if (keyed.has(f.name)) {
          const size = Number(/NVarChar\((\d+)\)/.exec(f.db!)?.[1]);
          assert.ok(size > 0 && size <= 450, `${name}.${f.name}: a string in a key or index is NVarChar(<=450), got ${f.db}`);
        }
      }
      if (/^(size|bytes\w*)$/i.test(f.name)) assert.match(f.type, /^BigInt\??$/, `${name}.${f.name}: byte sizes are BigInt`);
    }
  }
});
