import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnackedOffsets } from './unacked-offsets.js';

describe('UnackedOffsets', () => {
  it('always reports the minimum offset of the records not yet acknowledged', () => {
    // Commands: a number adds a record at that offset; null acknowledges the oldest one.
    const commands = fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(null)), { maxLength: 300 });
    fc.assert(
      fc.property(commands, (cmds) => {
        const u = new UnackedOffsets();
        const model: Array<{ ticket: number; offset: number }> = [];
        for (const c of cmds) {
          if (c === null) {
            const oldest = model.shift();
            if (oldest !== undefined) u.ack(oldest.ticket);
          } else {
            model.push({ ticket: u.add(c), offset: c });
          }
          expect(u.size).toBe(model.length);
          expect(u.min()).toBe(model.length === 0 ? undefined : Math.min(...model.map((m) => m.offset)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the minimum correct across its internal compaction', () => {
    const u = new UnackedOffsets();
    const tickets: number[] = [];
    for (let i = 0; i < 5000; i++) tickets.push(u.add(i));
    for (let i = 0; i < 4000; i++) u.ack(tickets[i]!);
    expect(u.min()).toBe(4000);
    expect(u.size).toBe(1000);
  });

  it('refuses acknowledgements out of order', () => {
    const u = new UnackedOffsets();
    u.add(10);
    const second = u.add(20);
    expect(() => u.ack(second)).toThrow(/out of order/);
  });
});
