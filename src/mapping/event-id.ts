/** Deterministic event ids: UUID v5 of `<source>:<sourceEventId>` in the project's own namespace. */
import { createHash } from 'node:crypto';

/**
 * The xdm-feedback UUID namespace: UUID v5 of the name `urn:xdm-feedback:event-id` in the RFC 4122 URL namespace.
 * Fixed forever: changing it would change every `_id` and defeat de-duplication of replays.
 */
export const EVENT_ID_NAMESPACE = '4207b2b0-b7e3-55ed-ba47-905903936686';

const NAMESPACE_BYTES = Buffer.from(EVENT_ID_NAMESPACE.replaceAll('-', ''), 'hex');

/**
 * The `_id` of an event: replays and overlapping backfills give the same id. RFC 4122 §4.3 written out (SHA-1 of
 * namespace + UTF-8 name, version and variant bits): the `uuid` package's v5 spent most of its time converting the
 * name to bytes in JavaScript, and this runs once per event. test/mapping/event-id.test.ts checks it against `uuid`.
 */
export function eventIdFor(source: string, sourceEventId: string): string {
  const hash = createHash('sha1').update(NAMESPACE_BYTES).update(`${source}:${sourceEventId}`, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
