/** `npm run schemas`: regenerates xdm-schemas/message-feedback.schema.json from the official files in xdm-schemas/source/. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, generateMessageFeedbackSchema, MESSAGE_FEEDBACK_SCHEMA_FILE } from '../src/validate/generate.js';
import { xdmSchemasDir } from '../src/validate/paths.js';

const dir = xdmSchemasDir();
const target = join(dir, MESSAGE_FEEDBACK_SCHEMA_FILE);
const text = canonicalJson(generateMessageFeedbackSchema(join(dir, 'source')));
writeFileSync(target, text);
process.stdout.write(`wrote ${target} (${Buffer.byteLength(text)} bytes)\n`);
