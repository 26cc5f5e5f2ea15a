#!/usr/bin/env node
/** Entry point of the `xdm-feedback` binary. */
import { buildProgram } from './program.js';

await buildProgram().parseAsync(process.argv);
