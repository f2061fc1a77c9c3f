import { describe, expect, it } from 'vitest';
import { createRecall } from './recall.js';

describe('createRecall', () => {
  it('forgets a text the given days after it was last touched', () => {
    const recall = createRecall({ days: 2 });
    recall.set('A', 'first', '2026-11-01');
    recall.set('B', 'second', '2026-11-02');
    recall.startDay('2026-11-03');
    recall.set('A', 'first, edited', '2026-11-03');
    recall.startDay('2026-11-05');
    // B was last touched on the 2nd, three days before; A on the 3rd, two days before.
    expect(recall.has('B')).toBe(false);
    expect(recall.text('A')).toBe('first, edited');
    recall.startDay('2026-11-06');
    expect(recall.size).toBe(0);
  });

  it('keeps at most `max` texts, the oldest going first, each cut to 500 characters', () => {
    const recall = createRecall({ max: 3 });
    for (const id of ['A', 'B', 'C', 'D']) recall.set(id, id.repeat(600), '2026-11-01');
    expect(recall.size).toBe(3);
    expect(recall.has('A')).toBe(false);
    expect(recall.text('D')).toHaveLength(500);
    recall.set('E', undefined, '2026-11-01');
    expect(recall.has('E')).toBe(true);
    expect(recall.text('E')).toBeUndefined();
  });
});
