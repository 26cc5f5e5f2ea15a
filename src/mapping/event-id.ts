/** Deterministic event ids: UUID v5 of `<source>:<sourceEventId>` in the project's own namespace. */
import * as crypto from 'node:crypto';

/**
 * The xdm-feedback UUID namespace: UUID v5 of the name `urn:xdm-feedback:event-id` in the RFC 4122 URL namespace.
 * Fixed forever: changing it would change every `_id` and defeat de-duplication of replays.
 */
export const EVENT_ID_NAMESPACE = '4207b2b0-b7e3-55ed-ba47-905903936686';

const NAMESPACE_BYTES = Buffer.from(EVENT_ID_NAMESPACE.replaceAll('-', ''), 'hex');

/** One-shot hashing (Node ≥ 20.12): no Hash object per event. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;
/** Namespace bytes followed by the name; grown when a name does not fit. */
let scratch = Buffer.alloc(16 + 512);
NAMESPACE_BYTES.copy(scratch);

function sha1OfName(name: string): Buffer {
  if (!oneShot) return crypto.createHash('sha1').update(NAMESPACE_BYTES).update(name, 'utf8').digest();
  if (16 + name.length * 3 > scratch.length) {
    scratch = Buffer.alloc(16 + name.length * 3);
    NAMESPACE_BYTES.copy(scratch);
  }
  const length = scratch.write(name, 16, 'utf8');
  return oneShot('sha1', scratch.subarray(0, 16 + length), 'buffer');
}

/**
 * The `_id` of an event: replays and overlapping backfills give the same id. RFC 4122 §4.3 written out (SHA-1 of
 * namespace + UTF-8 name, version and variant bits): the `uuid` package's v5 spent most of its time converting the
 * name to bytes in JavaScript, and this runs once per event. test/mapping/event-id.test.ts checks it against `uuid`.
 */
export function eventIdFor(source: string, sourceEventId: string): string {
  const hash = sha1OfName(`${source}:${sourceEventId}`);
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
