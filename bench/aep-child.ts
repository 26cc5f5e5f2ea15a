/**
 * The local AEP imitation in its own process, so its request handling does not run on the connector's event loop.
 * argv[2]: `{"validate": boolean}`. Answers `usage` with its CPU time and counters; `close` stops it.
 */
import { startAepLocal } from '../src/aep-local/index.js';
import type { AepChildMessage, AepParentMessage } from './ipc.js';

const { validate } = JSON.parse(process.argv[2] ?? '{}') as { validate?: boolean };
const send = (m: AepChildMessage) => process.send?.(m);

const aep = await startAepLocal({
  ...(validate ? {} : { validator: { validate: () => null } }),
  retainEvents: false,
  batchProcessingDelayMs: 0,
});

process.on('message', (m: AepParentMessage) => {
  if (m.type === 'usage') {
    const cpu = process.cpuUsage();
    const stats = aep.stats();
    const requests = Object.values(stats.requests).reduce((n, byStatus) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
    send({
      type: 'usage',
      id: m.id,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      accepted: stats.accepted,
      rejected: stats.messages.rejected,
      requests,
    });
  } else if (m.type === 'close') {
    void aep.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => void aep.close().then(() => process.exit(0)));
send({ type: 'ready', endpoints: aep.endpoints });
