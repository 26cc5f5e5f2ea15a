/** What every command shares: global options, loading the config, the logger, printing results, exit codes. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { LevelWithSilent } from 'pino';
import { ConfigError, ExitCode, errorMessage, exitCodeFor } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { readConfigFile, type Config, type LoadOptions } from '../config/load.js';
import { redact } from '../redact.js';

export interface GlobalOptions {
  config?: string;
  state?: string;
  logLevel?: LevelWithSilent;
  json?: boolean;
}

export const defaultConfigFiles = ['xdm-feedback.yaml', 'xdm-feedback.yml', 'xdm-feedback.json'];

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export function loggerFor(options: GlobalOptions): Logger {
  return createLogger(options.logLevel ? { level: options.logLevel } : {});
}

/**
 * The configuration of `--config` (or ./xdm-feedback.yaml). `secrets: false` for commands that never call Adobe:
 * they then work without ADOBE_CLIENT_SECRET.
 */
export function loadConfig(options: GlobalOptions, load: LoadOptions = {}): Config {
  const file = options.config ?? defaultConfigFiles.find((f) => existsSync(f));
  if (!file) {
    throw new ConfigError(
      `no configuration: pass --config <file> or create ${defaultConfigFiles[0]} (see examples/xdm-feedback.yaml); \`npm start\` runs the demo without one`,
    );
  }
  const config = readConfigFile(file, load);
  if (options.state) config.state = resolve(options.state);
  return config;
}

export function print(options: GlobalOptions, human: () => string, machine: () => unknown): void {
  process.stdout.write(options.json ? JSON.stringify(machine(), null, 2) + '\n' : human() + '\n');
}

/** Runs a command body, turning errors into a readable line and the documented exit code. */
export async function runAction(options: GlobalOptions, body: () => Promise<number | void>): Promise<void> {
  try {
    const code = await body();
    process.exitCode = code ?? ExitCode.ok;
  } catch (error) {
    const message = redact(errorMessage(error));
    if (options.json) process.stdout.write(JSON.stringify({ error: message, exitCode: exitCodeFor(error) }) + '\n');
    else process.stderr.write(`xdm-feedback: ${message}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
