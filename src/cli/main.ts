#!/usr/bin/env node
/** Entry point of the `xdm-feedback` binary. */
import { buildProgram } from './program.js';
import { capHeapGrowth } from '../util/heap-growth.js';

capHeapGrowth();

await buildProgram().parseAsync(process.argv);
