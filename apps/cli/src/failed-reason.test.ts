import { describe, expect, it } from 'vitest';
import { instanceOfJobId, parseFailedReason, reasonMatches } from './failed-reason.js';

describe('parseFailedReason', () => {
  it('reads the worker format', () => {
    expect(
      parseFailedReason(
        'permanent_failure: no_file: Green-API: file message encrypted url not found',
      ),
    ).toEqual({
      outcome: 'permanent_failure',
      code: 'no_file',
      error: 'Green-API: file message encrypted url not found',
    });
    expect(parseFailedReason('expired: deadline_passed: socket hang up')).toEqual({
      outcome: 'expired',
      code: 'deadline_passed',
      error: 'socket hang up',
    });
    expect(parseFailedReason('permanent_failure: too_large')).toMatchObject({
      code: 'too_large',
      error: '',
    });
    expect(parseFailedReason('permanent_failure: bad_request: line1\nline2').error).toBe(
      'line1\nline2',
    );
  });

  it("reads the record worker's invalid_job as a permanent failure", () => {
    expect(parseFailedReason('invalid_job: chatId: expected string')).toEqual({
      outcome: 'permanent_failure',
      code: 'invalid_job',
      error: 'chatId: expected string',
    });
    expect(parseFailedReason('invalid_job')).toMatchObject({ code: 'invalid_job', error: '' });
    expect(parseFailedReason('no_file: x').code).toBe('unknown');
  });

  it('calls anything else unknown', () => {
    expect(parseFailedReason('job stalled more than allowable limit')).toMatchObject({
      outcome: 'other',
      code: 'unknown',
    });
    expect(parseFailedReason(undefined)).toMatchObject({
      outcome: 'other',
      code: 'unknown',
      error: '',
    });
    expect(parseFailedReason('Permanent_failure: no_file: x').code).toBe('unknown');
  });

  it('matches a filter by code or by outcome', () => {
    const r = parseFailedReason('expired: deadline_passed: x');
    expect(reasonMatches(r, undefined)).toBe(true);
    expect(reasonMatches(r, 'deadline_passed')).toBe(true);
    expect(reasonMatches(r, 'expired')).toBe(true);
    expect(reasonMatches(r, 'no_file')).toBe(false);
  });
});

describe('instanceOfJobId', () => {
  it('reads the instance from an archive or record job id', () => {
    expect(instanceOfJobId('1101000001-AbC_dEf-0123456789abcdef012345')).toBe('1101000001');
    expect(instanceOfJobId('3100000002-e0123456789abcdef012345')).toBe('3100000002');
    expect(instanceOfJobId('repeat:reconcile')).toBeUndefined();
  });
});
