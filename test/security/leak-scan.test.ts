/**
 * No secret or personal data leaks: a full faulty run (bad credentials once, tokens expiring mid-run, throttling,
 * rejections, malformed input full of email addresses and phone numbers) with everything it writes captured —
 * stdout, stderr logs in JSON and pretty form, dead-letter reasons and errors, the run error column, ledger failure
 * reasons, metrics files, the HTML report, status and dlq list output — then scanned for the client secret, every
 * token IMS issued, `Bearer <token>`, and every email address and phone number of the input.
 *
 * By design (see docs/guarantees.md) the input itself is kept in `dead_letters.raw` (needed to replay it) and the
 * events sent to Adobe carry the identities they must carry; `dlq show`/`dlq export` print raw input on request,
 * and a dry run writes the event payloads. Those are exempt; nothing else is.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { builtPath } from '../helpers/built.js';
import { buildWorkload, crashCli, type ChildRun, type CrashCli } from '../helpers/crash-harness.js';
import { tempDir } from '../helpers/temp.js';

const root = tempDir('xdmf-leaks-');
const EMAILS = ['pii.alice.leak@example.org', 'bob_smith+promo@mail.example.co.uk', 'carol.leak@example.com', 'dan@leak-check.example.net'];
const PHONES = ['+44 7700 900461', '+61491570993', '07700900777', '+1-202-555-0143'];

/** Input lines that put personal data where it can end up in reasons, errors, logs and reports. */
function piiLines(): string[] {
  const base = (i: number, extra: Record<string, unknown>) =>
    JSON.stringify({
      commId: `pii-${i}`,
      commDescription: 'Payment reminder',
      customer: { customerId: String(900000 + i) },
      status: 'Failed',
      channel: 'Email',
      metadata: { eventId: `pii-${i}-feedback`, traceToken: `t-pii-${i}`, createdAt: Date.UTC(2024, 4, 2, 10, i) },
      ...extra,
    });
  const lines: string[] = [];
  EMAILS.forEach((email, i) => {
    const phone = PHONES[i]!;
    // Sent: the provider text (failure reason) carries the address; the ledger and the report keep that reason.
    lines.push(base(10 + i, { description: `Error: EmailGatewayError mailbox ${email} unreachable, sms ${phone} failed` }));
    // Map dead letters whose reasons quote the offending value.
    lines.push(base(20 + i, { status: email }));
    lines.push(base(30 + i, { status: phone }));
    lines.push(base(40 + i, { channel: `${email} ${phone}` }));
    lines.push(base(50 + i, { metadata: { eventId: `pii-${50 + i}`, traceToken: 't', createdAt: `call ${phone} or ${email}` } }));
    // Decode dead letters: JSON.parse quotes the broken text in its message.
    lines.push(`{"commId":"pii-${60 + i}","email":"${email}","phone":"${phone}",`);
    lines.push(`${email} ${phone} not json`);
  });
  return lines;
}

interface Captured {
  what: string;
  text: string;
}

/** Records every access_token IMS hands out, by standing between the connector and the imitation's IMS. */
async function tokenRecorder(target: string): Promise<{ url: string; tokens: string[]; server: Server }> {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void fetch(target, { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' }, body: Buffer.concat(chunks) }).then(
        async (answer) => {
          const text = await answer.text();
          try {
            const token = (JSON.parse(text) as { access_token?: string }).access_token;
            if (token) tokens.push(token);
          } catch {
            // not JSON: nothing issued
          }
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(text);
        },
        () => {
          res.writeHead(502);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ims/token/v3`, tokens, server };
}

/** Runs the built CLI under a pseudo-terminal (`script`), so the logger writes its pretty, human form. */
function runOnTty(cli: CrashCli, args: string[], env: Record<string, string>): Promise<ChildRun> {
  const entry = builtPath('src/cli/main.js');
  const command = [process.execPath, entry, '--config', cli.config, ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: cli.dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('nothing secret or personal leaks from a full faulty run', () => {
  let aep: AepLocal;
  let recorder: Awaited<ReturnType<typeof tokenRecorder>>;
  beforeAll(async () => {
    aep = await startAepLocal({ seed: 99 });
    recorder = await tokenRecorder(aep.endpoints.imsTokenUrl);
  });
  afterAll(async () => {
    await aep?.close();
    await new Promise((r) => recorder?.server.close(r));
  });

  it('stdout, JSON and pretty logs, state columns, metrics, report, status and dlq list hold no secret, token, email or phone', async () => {
    const workload = buildWorkload(3000, 99, { shares: { reject: 0.01 } });
    const input = workload.text + piiLines().join('\n') + '\n';
    const captured: Captured[] = [];
    const keep = (what: string, run: ChildRun) => captured.push({ what: `${what} stdout`, text: run.stdout }, { what: `${what} stderr`, text: run.stderr });
    const secret = aep.credentials.clientSecret;
    const env = { XDM_FEEDBACK_LOG_LEVEL: 'debug' };

    const cli = crashCli(join(root, 'json'), aep, input, { concurrency: { max: 3, initial: 2 } }, {
      adobe: { imsUrl: recorder.url, clientId: aep.credentials.clientId, orgId: aep.credentials.imsOrgId, sandbox: aep.credentials.sandboxName, platformUrl: aep.endpoints.platformUrl },
    });

    // 1. Bad credentials: IMS refuses, the run fails with exit 1 and says so.
    const refused = await cli.run(['sync', '--log-level', 'debug'], { ...env, ADOBE_CLIENT_SECRET: `${secret}-wrong-but-secret-too` });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stdout + refused.stderr).toMatch(/IMS refused the client credentials/);
    keep('refused sync', refused);
    captured.push({ what: 'the wrong secret itself must not appear either', text: '' });

    // 2. The real run: throttling, server errors, tokens that die after a second, rejected events, bad input.
    aep.setFaults({
      routes: ['dcs'],
      script: ['429:0', '503:0', 'ok', '500', 'reset', 'ok', '401', 'ok'],
      tokenExpiresAfterSeconds: 1,
      rejectIds: (id) => workload.rejected.has(id),
    });
    const faulty = await cli.run(['sync', '--log-level', 'debug', '--metrics-prom', 'metrics.prom'], env);
    expect(faulty.code, faulty.stderr).toBe(3);
    keep('faulty sync (JSON logs)', faulty);
    expect(faulty.stderr).toMatch(/"level":\d+/); // JSON log lines were really written
    expect(recorder.tokens.length).toBeGreaterThan(1); // tokens were issued (and replaced)
    aep.setFaults(undefined);

    // 3. Pretty logs: the same input through a pseudo-terminal.
    if (hasScript) {
      const prettyCli = crashCli(join(root, 'pretty'), aep, input, {}, {
        adobe: { imsUrl: recorder.url, clientId: aep.credentials.clientId, orgId: aep.credentials.imsOrgId, sandbox: aep.credentials.sandboxName, platformUrl: aep.endpoints.platformUrl },
      });
      aep.setFaults({ routes: ['dcs'], script: ['429:0', '401', 'ok'], rejectIds: (id) => workload.rejected.has(id) });
      const pretty = await runOnTty(prettyCli, ['sync', '--log-level', 'debug'], { ...env, ADOBE_CLIENT_SECRET: secret });
      aep.setFaults(undefined);
      expect(pretty.stdout).toMatch(/(DEBUG|INFO|WARN)/); // pino-pretty's level labels
      keep('pretty sync (TTY)', pretty);
    }

    // 4. Every other thing an operator reads.
    for (const args of [['status'], ['status', '--json'], ['dlq', 'list', '--limit', '1000'], ['dlq', 'list', '--json', '--limit', '1000'], ['report', '--html', 'report.html'], ['sync', '--dry-run', 'dry.ndjson']]) {
      const run = await cli.run(args, env);
      expect([0, 3], `${args.join(' ')}: ${run.stderr}`).toContain(run.code);
      if (args[0] === 'dlq' && args.includes('--json')) {
        // The JSON listing carries each dead letter's raw input (exempt, like dlq show); everything else in it is scanned.
        const listing = JSON.parse(run.stdout) as { deadLetters: Array<Record<string, unknown>> };
        expect(listing.deadLetters.length).toBeGreaterThan(20);
        for (const d of listing.deadLetters) delete d.raw;
        run.stdout = JSON.stringify(listing);
      }
      keep(args.join(' '), run);
    }
    captured.push({ what: 'report.html', text: readFileSync(join(cli.dir, 'report.html'), 'utf8') });
    captured.push({ what: 'metrics.prom', text: readFileSync(join(cli.dir, 'metrics.prom'), 'utf8') });
    const runsDir = join(cli.dir, 'state', 'runs');
    expect(existsSync(runsDir)).toBe(true);
    for (const file of readdirSync(runsDir)) captured.push({ what: `state/runs/${file}`, text: readFileSync(join(runsDir, file), 'utf8') });

    const db = new Database(cli.state, { readonly: true });
    try {
      const letters = db.prepare('SELECT stage, reason, errors FROM dead_letters').all() as Array<{ stage: string; reason: string; errors: string | null }>;
      expect(new Set(letters.map((l) => l.stage))).toEqual(new Set(['decode', 'map', 'ingest']));
      captured.push({ what: 'dead_letters.reason', text: letters.map((l) => l.reason).join('\n') });
      captured.push({ what: 'dead_letters.errors', text: letters.map((l) => l.errors ?? '').join('\n') });
      captured.push({ what: 'runs.error and counters', text: (db.prepare("SELECT coalesce(error, '') || ' ' || coalesce(counters, '') AS t FROM runs").pluck().all() as string[]).join('\n') });
      const reasons = db.prepare('SELECT failure_reason FROM ledger WHERE failure_reason IS NOT NULL').pluck().all() as string[];
      expect(reasons.some((r) => r.includes('[email]'))).toBe(true); // the PII-bearing provider texts were sent and kept, redacted
      captured.push({ what: 'ledger.failure_reason', text: reasons.join('\n') });
      captured.push({ what: 'checkpoints and locks', text: JSON.stringify(db.prepare('SELECT * FROM checkpoints').all()) + JSON.stringify(db.prepare('SELECT * FROM locks').all()) });
    } finally {
      db.close();
    }

    // The run did meet the personal data: the raw input is kept for replay (exempt), and the reasons mention redactions.
    expect(captured.find((c) => c.what === 'dead_letters.reason')!.text).toMatch(/\[email\]|\[phone\]/);

    const forbidden: Array<[string, string]> = [
      ['the client secret', secret],
      ['the wrong client secret', `${secret}-wrong-but-secret-too`],
      ...recorder.tokens.map((t, i): [string, string] => [`IMS token #${i + 1}`, t]),
      ...EMAILS.map((e): [string, string] => [`email ${e}`, e]),
      ...EMAILS.map((e): [string, string] => [`email local part of ${e}`, e.split('@')[0]!]),
      ...PHONES.map((p): [string, string] => [`phone ${p}`, p]),
      ...PHONES.map((p): [string, string] => [`phone digits of ${p}`, p.replace(/\D/g, '').slice(-9)]),
    ];
    const leaks: string[] = [];
    for (const { what, text } of captured) {
      for (const [name, value] of forbidden) {
        const at = text.indexOf(value);
        if (at >= 0) leaks.push(`${name} in ${what}: …${text.slice(Math.max(0, at - 60), at + value.length + 20)}…`);
      }
      const bearer = /Bearer\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]{8,}/.exec(text);
      if (bearer) leaks.push(`"${bearer[0].slice(0, 20)}…" in ${what}`);
    }
    expect(leaks).toEqual([]);
    expect(captured.reduce((n, c) => n + c.text.length, 0)).toBeGreaterThan(50_000); // a lot was really scanned
  }, 120_000);
});
