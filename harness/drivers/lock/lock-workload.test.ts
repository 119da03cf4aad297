import { describe, expect, it } from 'vitest';
import { redis, withClient } from '../../../targets/index.ts';
import { validateScenario } from '../../scenario/validate-scenario.ts';
import { lockDriver } from './lock-driver.ts';
import { lock, lockSettings, lockWorkloadSchema } from './lock-workload.ts';

const scenario = (design: object, workload: object = lock({})) => ({ name: 'l', description: 'locks', designs: { d: design }, workload, duration: '5s' });

function problems(s: object): string[] {
  const r = validateScenario(s);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('lock workload', () => {
  it('fills every default, the think time from the retry delay', () => {
    expect(lockSettings(lockWorkloadSchema.parse(lock({})))).toEqual({ clients: 4, resources: 1, resourceChoice: 'random', ttlMs: 500, holdMs: 20, acquireTimeoutMs: 5000, retryDelayMs: 10, thinkMs: 10, clientFaultsLand: 'in-hold' });
    expect(lockSettings(lock({ retryDelay: '3ms', ttl: '2s' }))).toMatchObject({ retryDelayMs: 3, thinkMs: 3, ttlMs: 2000 });
    expect(lockDriver.clients!(lock({ clients: 3 }))).toEqual(['client-1', 'client-2', 'client-3']);
  });

  it('takes a lock workload over Redis with each strategy, redlock over several masters', () => {
    for (const strategy of ['setnx-expire', 'set-nx-px', 'token', 'watchdog', 'fenced'] as const) expect(problems(scenario(withClient(redis(), { strategy }))), strategy).toEqual([]);
    expect(problems(scenario(withClient(redis({ masters: 5 }), { strategy: 'redlock' })))).toEqual([]);
    expect(problems(scenario(withClient(redis(), { strategy: 'setnx-expire', crashBetweenSetnxAndExpire: true })))).toEqual([]);
    expect(problems(scenario(withClient(redis({ masters: 5 }), { strategy: 'redlock', ttl: '5s' })))).toEqual([]);
  });

  it('names the field and what to do for bad settings', () => {
    expect(problems(scenario(withClient(redis(), { strategy: 'token', crashBetweenSetnxAndExpire: true })))).toEqual([
      "designs.d.client.crashBetweenSetnxAndExpire: only the setnx-expire strategy has a gap between SETNX and EXPIRE; this design's strategy is 'token': remove crashBetweenSetnxAndExpire",
    ]);
    expect(problems(scenario(withClient(redis(), { strategy: 'mutex' })))).toEqual(["designs.d.client.strategy: unknown lock strategy \"mutex\"; give one of 'setnx-expire', 'set-nx-px', 'token', 'watchdog', 'redlock', 'fenced'"]);
    expect(problems(scenario(redis(), { ...lock({}), model: 'open' }))).toEqual(["workload.model: the lock workload runs the closed model only: give model: 'closed' (lock() does)"]);
    expect(problems(scenario(redis(), lock({ ttl: '0ms', clients: 65 })))).toEqual(['workload.clients: at most 64 clients (each is a process)', 'workload.ttl: give at least 1ms']);
    expect(problems(scenario(withClient(redis(), { strategy: 'token', ttl: '0ms' })))).toEqual(['designs.d.client.ttl: give at least 1ms']);
    expect(problems(scenario(withClient(redis(), { strategy: 'token', ttl: 'long' })))).toEqual(["designs.d.client.ttl: expected a duration such as '500ms', '3s', '2m' or '1m30s'"]);
  });
});
