import { createWriteStream } from 'node:fs';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, test } from 'vitest';
import { createSource } from '../../src/sources/index.js';
import { testContext } from '../helpers/source-context.js';
import { tempDir } from '../helpers/temp.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dir = tempDir('xdmf-memory-');

async function writeLargeFile(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  const pad = 'x'.repeat(180);
  for (let i = 0; i < lines; i++) {
    const line = `{"commId":"c-${i}","status":"Delivered","channel":{"com.ovoenergy.comms.model.Channel":"Email"},"metadata":{"eventId":"e-${i}","createdAt":${1714550400000 + i}},"pad":"${pad}"}\n`;
    if (!out.write(line)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

test('reading a file far larger than the memory it may use keeps the heap flat (items are counted, not held)', async () => {
  const path = join(dir, 'large.ndjson');
  const lines = 400_000;
  await writeLargeFile(path, lines);
  const size = statSync(path).size;
  expect(size).toBeGreaterThan(100 * 1024 * 1024);

  const source = createSource({ type: 'ovo-feedback', files: [path] }, { baseDir: dir });
  gc();
  const baseline = process.memoryUsage().heapUsed;
  let peak = 0;
  let count = 0;
  let batches = 0;
  for await (const batch of source.read(testContext())) {
    count += batch.length;
    if (++batches % 100 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
    }
  }
  expect(count).toBe(lines);
  // Bounded by the read buffer, one chunk of lines and one batch: a few MB, whatever the file size.
  expect(peak).toBeLessThan(32 * 1024 * 1024);
  expect(peak).toBeLessThan(size / 4);
}, 60_000);
