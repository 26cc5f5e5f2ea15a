/** Turns the validator's `path: message` lines into AEP's validation report entries (`_streamingValidation`, `_validationErrors`). */

/** One violation as AEP reports it. */
export interface Violation {
  schemaLocation: string;
  pointerToViolation: string;
  causingExceptions: [];
  keyword: string;
  message: string;
}

/** Guesses the JSON Schema keyword behind a validator message (the validator reports readable text, not keywords). */
function keywordOf(message: string): string {
  if (message.startsWith('required field is missing')) return 'required';
  if (message.startsWith('is not a field of the schema')) return 'additionalProperties';
  if (message.startsWith('must be equal to one of the allowed values')) return 'enum';
  if (message.startsWith('must match format')) return 'format';
  if (message.startsWith('must match pattern')) return 'pattern';
  if (message.startsWith('must not be null') || message.startsWith('must be a finite number')) return 'type';
  if (message.startsWith('must not be an empty string')) return 'minLength';
  if (message.startsWith('must not be an empty array')) return 'minItems';
  if (message.startsWith('must not be an empty object')) return 'minProperties';
  if (message.startsWith('event is ')) return 'maxSize';
  if (/^must be (string|number|integer|boolean|object|array|null)\b/.test(message)) return 'type';
  return 'validation';
}

/** `#/properties/a/properties/b` for the instance pointer `/a/b` (array indexes become `items`). */
function schemaLocationOf(pointer: string): string {
  const segments = pointer.split('/').filter(Boolean);
  return '#' + segments.map((s) => (/^\d+$/.test(s) ? '/items' : `/properties/${s}`)).join('');
}

/** Parses one `path: message` line; a line without a leading pointer is reported at the root. */
export function toViolation(line: string): Violation {
  const match = /^(\/\S*?): (.*)$/s.exec(line);
  const pointer = match ? (match[1] === '/' ? '' : match[1]!) : '';
  const message = match ? match[2]! : line;
  return {
    schemaLocation: schemaLocationOf(pointer),
    pointerToViolation: '#' + pointer,
    causingExceptions: [],
    keyword: keywordOf(message),
    message,
  };
}

/** The `_streamingValidation` cause of a syncValidation 400, as in Adobe's docs. */
export function streamingValidation(lines: readonly string[]): Record<string, unknown> {
  return {
    _streamingValidation: [
      {
        schemaLocation: '#',
        pointerToViolation: '#',
        causingExceptions: lines.map(toViolation),
        message: `${lines.length} schema violation${lines.length === 1 ? '' : 's'} found`,
      },
    ],
  };
}

/** The `_validationErrors` of a failed batch record (Data Access). */
export function validationErrors(lines: readonly string[]): Array<Omit<Violation, 'causingExceptions'>> {
  return lines.map((line) => {
    const { causingExceptions: _unused, ...rest } = toViolation(line);
    return rest;
  });
}
