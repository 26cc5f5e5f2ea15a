/** Builds a kafkajs consumer from configuration: TLS files, SASL password from the environment, logs into pino. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { LogEntry, SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { ConfigError } from '../../errors.js';
import type { KafkaConfig } from '../config.js';
import type { ConsumerLike } from './kafka-source.js';

/** kafkajs is loaded when a Kafka source first reads: runs without one do not carry it (~6 MB). */
const require = createRequire(import.meta.url);

/** Creates a kafkajs consumer for the configured group; credentials are read from the environment now. */
export function createKafkaConsumer(config: KafkaConfig, baseDir: string, log: Logger, env: NodeJS.ProcessEnv = process.env): ConsumerLike {
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const kafka = new Kafka({
    clientId: config.clientId ?? 'xdm-feedback',
    brokers: config.brokers,
    ssl: tlsOptions(config.ssl, baseDir),
    sasl: saslOptions(config.sasl, env),
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, timestamp: _timestamp, ...extra } = entry.log;
      const fields = { kafka: entry.namespace, ...extra };
      if (entry.level === logLevel.ERROR) log.error(fields, message);
      else if (entry.level === logLevel.WARN) log.warn(fields, message);
      else log.debug(fields, message);
    },
  });
  return kafka.consumer({
    groupId: config.groupId,
    sessionTimeout: config.sessionTimeoutMs ?? 30_000,
    allowAutoTopicCreation: false,
  });
}

function tlsOptions(ssl: KafkaConfig['ssl'], baseDir: string): ConnectionOptions | boolean | undefined {
  if (ssl === undefined || typeof ssl === 'boolean') return ssl;
  const read = (key: string, file: string | undefined): string | undefined => {
    if (file === undefined) return undefined;
    const path = resolve(baseDir, file);
    try {
      return readFileSync(path, 'utf8');
    } catch {
      throw new ConfigError(`kafka.ssl.${key}: cannot read ${path}; point it at a PEM file`);
    }
  };
  const ca = read('caFile', ssl.caFile);
  const cert = read('certFile', ssl.certFile);
  const key = read('keyFile', ssl.keyFile);
  return { rejectUnauthorized: true, ...(ca ? { ca: [ca] } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

function saslOptions(sasl: KafkaConfig['sasl'], env: NodeJS.ProcessEnv): SASLOptions | undefined {
  if (!sasl) return undefined;
  const password = env[sasl.passwordEnv];
  if (!password) {
    throw new ConfigError(`kafka.sasl.passwordEnv: environment variable ${sasl.passwordEnv} is not set; export the SASL password in it`);
  }
  return { mechanism: sasl.mechanism, username: sasl.username, password } as SASLOptions;
}
