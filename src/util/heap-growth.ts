/**
 * Tightens V8's old-generation growth for a long run. A sync or backfill makes ~10 KB of short-lived objects per event,
 * and the units in flight live long enough to be promoted; by default V8 then lets the old generation grow to several
 * times its live size (~40 MB) before a full collection. With growth capped at 1.5× the live size, the peak RSS of
 * `npm run bench`'s streaming case fell by ~110 MB (to 227 MB at 1M records, with the other changes of that round),
 * for ~10 % more CPU per event (bench/README.md has the figures).
 */
import { setFlagsFromString } from 'node:v8';

const FLAG = '--heap-growing-percent';
/** Old generation may grow to (1 + 50 %) × its live size before the next full collection. */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Applies the growth cap to this process (all its threads), unless the process was started with its own
 * `--heap-growing-percent`. V8 reads this flag at each full collection, so setting it at run time takes effect.
 */
export function capHeapGrowth(execArgv: readonly string[] = process.execArgv): void {
  const own = execArgv.some((arg) => {
    const name = arg.split('=')[0]!.replaceAll('_', '-');
    return name === FLAG;
  });
  if (own) return;
  setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
}

/**
 * Node options for a smaller process, at a cost in throughput: 2 MB semi-spaces instead of V8's 16 MB, and (see
 * lowMemoryRequested) no mapping thread. V8 fixes the young generation when the process starts, so this can only be
 * given as `NODE_OPTIONS` (README: "Memory"); `npm run bench` measures it as the `xdm-feedback-lean` case. Measured
 * there: 4 MB semi-spaces peaked at 200–206 MB, 2 MB at 189–192 MB for ~7 % less throughput, 1 MB saved nothing more.
 */
export const LOW_MEMORY_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=2'];

const SEMI_SPACE_FLAG = '--max-semi-space-size';
/** Largest semi-space (MB) that still counts as asking for low memory. */
const LOW_MEMORY_SEMI_SPACE_MB = 8;

/**
 * True when the process was started with the low-memory setting (a semi-space of at most 8 MB, in its arguments or
 * NODE_OPTIONS). Runs then keep mapping on the main thread: the mapping thread's own heap costs ~60 MB.
 */
export function lowMemoryRequested(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  const args = [...execArgv, ...nodeOptions.split(/\s+/)];
  return args.some((arg, i) => {
    const [name, inline] = arg.split('=', 2);
    if (name!.replaceAll('_', '-') !== SEMI_SPACE_FLAG) return false;
    const mb = Number(inline ?? args[i + 1]);
    return Number.isFinite(mb) && mb <= LOW_MEMORY_SEMI_SPACE_MB;
  });
}
