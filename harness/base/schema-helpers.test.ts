import { describe, expect, it } from 'vitest';
import { MAX_DURATION, MAX_DURATION_MS, parseDuration } from './duration.ts';
import { durationSchema } from './schema-helpers.ts';

describe('durationSchema', () => {
  it('states its bound in the same words as the constant it checks', () => {
    expect(parseDuration(MAX_DURATION)).toBe(MAX_DURATION_MS);
    // Node's timers overflow past 2^31 - 1 ms; even ten times the bound (--time-scale 10) stays under it.
    expect(MAX_DURATION_MS * 10).toBeLessThan(2 ** 31 - 1);
  });

  it.each(['500ms', '1m30s', '24h', '23h59m59s'])('accepts %s', (text) => {
    expect(durationSchema.safeParse(text).success).toBe(true);
  });

  it.each(['100000h', '24h1ms', '25h', '1441m', `${2 ** 31}ms`])('refuses %s as longer than 24h', (text) => {
    const r = durationSchema.safeParse(text);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual([`'${text}' is longer than 24h, the longest duration faultline accepts`]);
  });

  it('tells a malformed duration from a long one', () => {
    expect(durationSchema.safeParse('ten seconds').error?.issues.map((i) => i.message)).toEqual(["expected a duration such as '500ms', '3s', '2m' or '1m30s'"]);
  });
});
