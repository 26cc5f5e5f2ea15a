/**
 * Where a process's peak memory goes: load it into the bench's processes with
 * `NODE_OPTIONS="--import ./dist/bench/memory-probe.js" npm run bench -- --only xdm-feedback`. Each main thread samples
 * every 50 ms and prints, at exit, the breakdown at its highest RSS: the JavaScript heap (by space), external memory
 * and ArrayBuffers, and (Linux) anonymous vs file-backed RSS. Used to find the figures in bench/README.md "Memory".
 */
import { readdirSync, readFileSync, writeSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';

const MB = 1e6;

function linuxRss(): Record<string, number> {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1000;
    return { anonymous: field('RssAnon'), fileBacked: field('RssFile') };
  } catch {
    return {};
  }
}

if (isMainThread) {
  let peak: Record<string, unknown> = { rssMb: 0 };
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss / MB <= (peak.rssMb as number)) return;
    const spaces = Object.fromEntries(getHeapSpaceStatistics().filter((s) => s.space_size > MB).map((s) => [s.space_name, Math.round(s.space_size / MB)]));
    peak = {
      rssMb: Math.round(m.rss / MB),
      heapTotalMb: Math.round(m.heapTotal / MB),
      heapUsedMb: Math.round(m.heapUsed / MB),
      externalMb: Math.round(m.external / MB),
      arrayBuffersMb: Math.round(m.arrayBuffers / MB),
      heapSpacesMb: spaces,
      rssMbByKind: linuxRss(),
    };
  }, 50);
  sample.unref();
  process.on('exit', () => writeSync(2, `memory-probe pid ${process.pid} (${process.argv[1] ?? ''}): ${JSON.stringify({ ...peak, threadCpuS: threadCpu() })}\n`));
}

/** CPU seconds per thread of this process (Linux), by thread name; the main thread is the one whose id is the pid. */
function threadCpu(): Array<{ tid: number; name: string; cpuS: number }> {
  try {
    return readdirSync('/proc/self/task').map((tid: string) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { tid: Number(tid), name: Number(tid) === process.pid ? 'main' : name, cpuS: (Number(fields[11]) + Number(fields[12])) / 100 };
    }).filter((t: { cpuS: number }) => t.cpuS >= 0.05);
  } catch {
    return [];
  }
}
