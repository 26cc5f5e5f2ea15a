/**
 * Runs one bench case in its own process (argv[2]: the CaseSpec as JSON) and sends its result, with the process's
 * peak RSS, to the parent over IPC.
 */
import type { CaseMessage, CaseResult, CaseSpec } from './case-types.js';
import { runConnectorCase } from './cases/connector.js';
import { runFloorCase } from './cases/floor.js';
import { runNaiveCase } from './cases/naive.js';
import { runStagesCase } from './cases/stages.js';
import { capHeapGrowth } from '../src/util/heap-growth.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as CaseSpec;
// The connector cases run in a process set up as the CLI sets up its own (src/cli/main.ts).
if (spec.kind === 'connector') capHeapGrowth();
const runners = { connector: runConnectorCase, floor: runFloorCase, naive: runNaiveCase, stages: runStagesCase };

async function main(): Promise<CaseMessage> {
  try {
    const partial = await runners[spec.kind](spec);
    // maxRSS is in kilobytes.
    const usage = process.resourceUsage();
    const nodeOptions = process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof'));
    const result: CaseResult = { ...partial, peakRssMb: usage.maxRSS / 1024, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, nodeOptions };
    return { type: 'result', result };
  } catch (error) {
    return { type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

const message = await main();
process.send?.(message, () => process.exit(message.type === 'result' ? 0 : 1));
