import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markdownWithMillion, type Meta } from '../report.ts';

const meta: Meta = {
  date: '2026-12-04',
  started_at: '2026-12-04T00:00:00Z',
  scale: 1,
  scenarios: ['S1'],
  machine: { cores: 2, cpu: 'cpu', memory_gb: 1, load_before: [0, 0, 0], os: 'Linux' },
  versions: {},
  concurrency: 16,
};

test('docs/performance.md: a run rewrites the S1-S6 head and keeps the S7-S9 section and the notes after it', () => {
  const existing = [
    '# Performance\n\nold table\n',
    '<!-- S7-S9: million-file imports (written by bench/report.ts markdownWithMillion) -->',
    'million figures',
    '<!-- /S7-S9 -->',
    '',
    '### What S7-S9 rest on',
    'hand-written notes',
    '',
    '## Thumbnails',
    'more notes',
    '',
  ].join('\n');
  const out = markdownWithMillion(existing, '# Performance\n\nnew table\n', meta, [], null as unknown as string);
  assert.match(out, /new table/);
  assert.doesNotMatch(out, /old table/);
  assert.match(out, /million figures\n<!-- \/S7-S9 -->/);
  assert.match(out, /<!-- \/S7-S9 -->\n\n### What S7-S9 rest on\nhand-written notes\n\n## Thumbnails\nmore notes\n$/);
  // Written again, it is the same file: nothing grows or moves.
  assert.equal(markdownWithMillion(out, '# Performance\n\nnew table\n', meta, [], null as unknown as string), out);
});
