import { describe, expect, it } from 'vitest';
import { parseCommandArgs, UsageError } from './args.js';
import { CHAT_SELECTION_OPTIONS, chatSelection } from './chat-selection.js';

const parse = (...argv: string[]) =>
  chatSelection(parseCommandArgs(argv, CHAT_SELECTION_OPTIONS).values);

describe('chatSelection', () => {
  it('reads the instance, the chat and the day range', () => {
    expect(
      parse('--instance', '1101000001', '--chat', '79001234567@c.us', '--since', '2026-11-01'),
    ).toEqual({
      idInstance: '1101000001',
      chatId: '79001234567@c.us',
      since: '2026-11-01',
      until: undefined,
    });
    expect(parse('--instance', '1101000001')).toEqual({
      idInstance: '1101000001',
      chatId: undefined,
      since: undefined,
      until: undefined,
    });
  });

  it('refuses a missing or malformed instance, a date that is no day, a range backwards', () => {
    expect(() => parse('--chat', 'x')).toThrow(/--instance is required/);
    expect(() => parse('--instance', 'abc')).toThrow(/an idInstance is digits only/);
    expect(() => parse('--instance', '1101000001', '--until', '2025-02-30')).toThrow(
      /expected a UTC date/,
    );
    expect(() =>
      parse('--instance', '1101000001', '--since', '2026-11-02', '--until', '2026-11-01'),
    ).toThrow(UsageError);
  });
});
