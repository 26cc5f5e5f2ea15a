/** Deterministic event ids: UUID v5 of `<source>:<sourceEventId>` in the project's own namespace. */
import { parse, v5 } from 'uuid';

/**
 * The xdm-feedback UUID namespace: UUID v5 of the name `urn:xdm-feedback:event-id` in the RFC 4122 URL namespace.
 * Fixed forever: changing it would change every `_id` and defeat de-duplication of replays.
 */
export const EVENT_ID_NAMESPACE = '4207b2b0-b7e3-55ed-ba47-905903936686';

const NAMESPACE_BYTES = parse(EVENT_ID_NAMESPACE);

/** The `_id` of an event: replays and overlapping backfills give the same id. */
export function eventIdFor(source: string, sourceEventId: string): string {
  return v5(`${source}:${sourceEventId}`, NAMESPACE_BYTES);
}
