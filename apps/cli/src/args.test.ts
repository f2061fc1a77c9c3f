import { describe, expect, it } from 'vitest';
import {
  HELP_OPTION,
  instanceId,
  nonNegativeInt,
  oneOf,
  parseCommandArgs,
  positiveInt,
  required,
  UsageError,
} from './args.js';

describe('parseCommandArgs', () => {
  const spec = {
    ...HELP_OPTION,
    reason: { type: 'string' },
    'dry-run': { type: 'boolean' },
  } as const;

  it('parses flags and values', () => {
    const { values } = parseCommandArgs(['--reason', 'no_file', '--dry-run'], spec);
    expect(values).toEqual({ reason: 'no_file', 'dry-run': true });
    expect(parseCommandArgs(['--reason=too_large'], spec).values.reason).toBe('too_large');
    expect(parseCommandArgs(['-h'], spec).values.help).toBe(true);
  });

  it('turns unknown flags, missing values and stray positionals into UsageError', () => {
    expect(() => parseCommandArgs(['--nope'], spec)).toThrow(UsageError);
    expect(() => parseCommandArgs(['--reason'], spec)).toThrow(UsageError);
    expect(() => parseCommandArgs(['extra'], spec)).toThrow(UsageError);
  });

  it('allows positionals when asked', () => {
    expect(parseCommandArgs(['list', '--reason', 'x'], spec, true).positionals).toEqual(['list']);
  });
});

describe('value checks', () => {
  it('positiveInt', () => {
    expect(positiveInt('limit', undefined)).toBeUndefined();
    expect(positiveInt('limit', '25')).toBe(25);
    for (const bad of ['0', '-1', '1.5', 'ten', '', '99999999999999999999']) {
      expect(() => positiveInt('limit', bad), bad).toThrow(/--limit/);
    }
  });

  it('nonNegativeInt accepts 0', () => {
    expect(nonNegativeInt('n', '0')).toBe(0);
    expect(() => nonNegativeInt('n', '-3')).toThrow(UsageError);
  });

  it('instanceId is digits only', () => {
    expect(instanceId('instance', '1101000001')).toBe('1101000001');
    expect(() => instanceId('instance', '11a')).toThrow(/digits/);
  });

  it('oneOf and required', () => {
    expect(oneOf('format', 'json', ['csv', 'json'] as const)).toBe('json');
    expect(() => oneOf('format', 'xml', ['csv', 'json'] as const)).toThrow(/csv, json/);
    expect(() => required('since', undefined)).toThrow('--since is required');
    expect(required('since', '2025-01-01')).toBe('2025-01-01');
  });
});
