/** Helpers for the mapping tests: temp files and a minimal mapping document to vary. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
export { tempDir } from '../helpers/temp.js';

/** Writes a file (JSON-serialising non-strings) below dir, creating folders; returns its path. */
export function writeFile(dir: string, name: string, content: unknown): string {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

/** A small valid mapping over records {id, status, time, messageId, channel, …}; override parts per test. */
export function baseMapping(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source: 'test-feed',
    fields: {
      sourceEventId: { '@path': 'id' },
      status: { '@path': 'status' },
      time: { '@path': 'time' },
      messageId: { '@path': 'messageId' },
      channel: { '@first': [{ '@path': 'channel' }, 'email'] },
      customerId: { '@path': 'customer' },
      email: { '@path': 'email' },
      phone: { '@path': 'phone' },
      phoneCountryCode: { '@path': 'cc' },
      failureCode: { '@path': 'code' },
      failureReason: { '@path': 'reason' },
      attempt: { '@path': 'attempt' },
      isTest: { '@path': 'test' },
    },
    statuses: {
      Sent: { feedbackStatus: 'sent' },
      Delivered: { feedbackStatus: 'delivered' },
    },
    ...overrides,
  };
}
