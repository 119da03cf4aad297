import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { http, httpService, lock, messaging, nodeCluster, redis, withClient } from '../index.ts';
import { rabbitmq, targets } from '../../targets/index.ts';
import { httpServiceSpec } from '../../targets/http-service/http-service.ts';
import { drivers } from '../drivers/index.ts';
import { entryAt } from '../runtime/service-spec.ts';
import { validateScenario } from '../scenario/validate-scenario.ts';
import { parseClockOffset } from './fault-spec.ts';

const base = {
  name: 'f',
  description: 'faults',
  designs: { single: httpService(), cluster: nodeCluster() },
  workload: http({ model: 'open', rate: 10, path: '/health' }),
  duration: '20s',
};

function problems(extra: object): Record<string, string> {
  const r = validateScenario({ ...base, ...extra });
  const out: Record<string, string> = {};
  if (r.ok) return out;
  for (const p of r.problems) out[p.path] = out[p.path] ? `${out[p.path]} | ${p.message}` : p.message;
  return out;
}

describe('fault validation', () => {
  it('accepts a timeline of link and service faults with scoped SLA lines', () => {
    const r = validateScenario({
      ...base,
      designs: { single: httpService() },
      faults: [
        { name: 'slow', at: '2s', for: '3s', link: 'client->service', latency: { latency: 50, jitter: 5 }, direction: 'both' },
        { name: 'cut', at: '6s', for: '2s', link: 'client->service', down: true },
        { name: 'freeze', at: '9s', for: '1s', service: 'service', pause: true },
        { name: 'crash', at: '12s', for: '2s', service: 'service', kill: 'SIGKILL' },
        { name: 'bounce', at: '16s', service: 'service', restart: true },
      ],
      sla: ['p99 < 100ms', { during: 'slow', check: 'p50 >= 50ms' }, { after: 'crash', check: 'recovery < 3s' }, { after: 'freeze', for: '2s', check: 'errors < 1%' }],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.faults).toHaveLength(5);
    expect(r.value.sla.map((s) => s.display)).toEqual(['p99 < 100ms', 'during slow: p50 >= 50ms', 'after crash: recovery < 3s', 'after freeze (2s): errors < 1%']);
    // Recovery with no thresholds of its own means the whole-run latency and error lines.
    expect(r.value.sla[2]?.until?.map((u) => u.source)).toEqual(['p99 < 100ms']);
  });

  it('names the valid links and services of each design for an unknown one', () => {
    const p = problems({ faults: [{ name: 'x', at: '1s', link: 'lb->backend-1', latency: { latency: 5 } }, { name: 'y', at: '1s', service: 'backend-2', pause: true }] });
    expect(p['faults[0].link']).toMatch(/design 'single' has no link 'lb->backend-1'; its links: 'client->service'/);
    expect(p['faults[0].link']).toMatch(/design 'cluster' has no link 'lb->backend-1'; its links: 'client->cluster'/);
    expect(p['faults[1].service']).toMatch(/design 'single' has no service 'backend-2'; its services: 'service'/);
  });

  it('limits a fault to some designs, and checks those names', () => {
    expect(problems({ faults: [{ name: 'x', at: '1s', service: 'cluster', pause: true, designs: ['cluster'] }] })).toEqual({});
    expect(problems({ faults: [{ name: 'x', at: '1s', service: 'cluster', pause: true, designs: ['clustre'] }] })['faults[0].designs']).toMatch(/unknown design 'clustre'/);
  });

  it('wants exactly one kind, on the right kind of target', () => {
    const p = problems({
      faults: [
        { name: 'a', at: '1s', link: 'client->service', latency: { latency: 5 }, down: true, designs: ['single'] },
        { name: 'b', at: '1s', link: 'client->service', designs: ['single'] },
        { name: 'c', at: '1s', service: 'service', latency: { latency: 5 }, designs: ['single'] },
        { name: 'd', at: '1s', service: 'service', restart: true, for: '2s', designs: ['single'] },
        { name: 'e', at: '1s', service: 'service', kill: 'SIGSTRANGE', designs: ['single'] },
        { name: 'f', at: 'soon', link: 'client->service', latency: { latency: 5, wobble: 1 }, designs: ['single'] },
      ],
    });
    expect(p['faults[0].down']).toMatch(/one fault kind per fault, not latency and down/);
    expect(p['faults[1].name']).toMatch(/give one fault kind: latency, bandwidth/);
    expect(p['faults[2].link']).toMatch(/a latency fault acts on a link/);
    expect(p['faults[3].for']).toMatch(/a restart is instant/);
    expect(p['faults[4].kill']).toBeDefined();
    expect(p['faults[5].at']).toMatch(/expected a duration/);
    expect(p['faults[5].latency.wobble']).toMatch(/unknown field/);
  });

  it("crashes only clients the workload has, and only with a client named", () => {
    const crash = (client: string) => ({ name: 'c', at: '1s', for: '1s', client, crash: true });
    const onMessaging = (faults: object[]) => {
      const r = validateScenario({ ...base, designs: { broker: rabbitmq() }, workload: messaging({ model: 'open', rate: 10, consumers: 2 }), faults });
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(onMessaging([crash('consumer-2')])).toEqual([]);
    expect(onMessaging([crash('consumer-3')])).toEqual(["faults[0].client: the messaging workload has no client 'consumer-3'; its clients: 'consumer-1', 'consumer-2'"]);
    expect(onMessaging([{ name: 'c', at: '1s', service: 'rabbitmq', crash: true }])).toEqual(["faults[0].client: a crash fault acts on a client: give client, e.g. 'consumer-1'", 'faults[0].service: a crash fault acts on a client, not a service']);
    expect(problems({ faults: [crash('consumer-1')] })['faults[0].client']).toBe('the http workload has no clients a fault can crash');
  });

  it('freezes a lock client by name, with a client and no service', () => {
    const onLock = (faults: object[]) => {
      const r = validateScenario({ ...base, designs: { fenced: withClient(redis(), { strategy: 'fenced' }) }, workload: lock({ clients: 3 }), faults });
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(onLock([{ name: 'gc', at: '1s', for: '2s', client: 'client-3', freeze: true }])).toEqual([]);
    expect(onLock([{ name: 'gc', at: '1s', for: '2s', client: 'client-4', freeze: true }])).toEqual(["faults[0].client: the lock workload has no client 'client-4'; its clients: 'client-1', 'client-2', 'client-3'"]);
    expect(onLock([{ name: 'gc', at: '1s', service: 'redis', freeze: true }])).toEqual(["faults[0].client: a freeze fault acts on a client: give client, e.g. 'consumer-1'", 'faults[0].service: a freeze fault acts on a client, not a service']);
    expect(onLock([{ name: 'gc', at: '1s', client: 'client-1', freeze: true, crash: true }])).toEqual(['faults[0].freeze: give one fault kind per fault, not crash and freeze; split it into two faults']);
  });

  it('keeps faults inside the window and their names unique', () => {
    const p = problems({
      faults: [
        { name: 'x', at: '25s', service: 'service', pause: true, designs: ['single'] },
        { name: 'x', at: '15s', for: '10s', service: 'service', pause: true, designs: ['single'] },
      ],
    });
    expect(p['faults[0].at']).toMatch(/starts at 25s, not inside the 20s window/);
    expect(p['faults[1].for']).toMatch(/ends at 25s, after the 20s window/);
    expect(p['faults[1].name']).toMatch(/already named 'x'/);
  });

  it('checks scoped SLA lines against the faults', () => {
    const faults = [{ name: 'slow', at: '1s', for: '2s', link: 'client->service', latency: { latency: 5 }, designs: ['single'] }];
    const p = problems({
      faults,
      sla: [
        { during: 'sloww', check: 'p99 < 1s' },
        { during: 'slow', after: 'slow', check: 'p99 < 1s' },
        { during: 'slow', check: 'recovery < 1s' },
        'recovery < 2s',
        { after: 'slow', check: 'recovery < 2s' },
        { during: 'slow', check: 'p99 < 1s', until: ['p99 < 1s'] },
        { after: 'slow', check: 'recovery < 2s', until: ['remapped < 5%'] },
      ],
    });
    expect(p['sla[0].during']).toMatch(/no fault named 'sloww'; faults: 'slow'/);
    expect(p['sla[1]']).toMatch(/exactly one of before, during or after/);
    expect(p['sla[2].check']).toMatch(/recovery is measured after a fault/);
    expect(p['sla[3]']).toMatch(/recovery is measured after a fault/);
    expect(p['sla[4]']).toMatch(/recovery needs thresholds/);
    expect(p['sla[5].until']).toMatch(/until goes with a recovery check/);
    expect(p['sla[6].until[0]']).toMatch(/cannot judge a single second/);
  });

  describe('clock faults', () => {
    // A target whose service runs with a fake clock, beside faultline's own (none of which is asked for here).
    const clockTarget = {
      name: 'clock-test',
      description: 'an http-service with a fake clock',
      options: z.strictObject({}),
      topology: () => ({ services: [{ ...httpServiceSpec('id-1'), target: 'clock-test', fakeClock: true as const }], entries: [entryAt('http', 'id-1', 'http')] }),
    };
    const known = { targets: { ...targets, 'clock-test': clockTarget }, drivers };
    const onClock = (faults: object[], designs: object = { faked: { target: 'clock-test', options: {} } }) => {
      const r = validateScenario({ ...base, designs, faults }, known);
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    const clock = (value: unknown, extra: object = {}) => ({ name: 'clock-back', service: 'id-1', at: '3s', for: '4s', clock: value, ...extra });

    it('reads signed offsets to the millisecond', () => {
      expect(['-2s', '+1500ms', '-0.5s', '+1m30s', '-1h', '-0s', '2s', '- 2s', '+', 'soon'].map(parseClockOffset)).toEqual([-2000, 1500, -500, 90_000, -3_600_000, -0, undefined, undefined, undefined, undefined]);
    });

    it('accepts a signed offset on a service with a fake clock, fractions of a second too', () => {
      expect(onClock([clock('-2s'), clock('+500ms', { name: 'ahead', at: '8s' }), clock('-0.25s', { name: 'back', at: '13s', for: undefined })])).toEqual([]);
    });

    it('refuses an offset of 0, one without a sign and one that is not a duration', () => {
      expect(onClock([clock('0s'), clock('+0ms', { name: 'b' }), clock('2s', { name: 'c' }), clock('-2', { name: 'd' }), clock('-25h', { name: 'e' })])).toEqual([
        "faults[0].clock: expected a signed duration such as '-2s', '+1500ms' or '-1m30s' (the sign says which way the clock goes)",
        "faults[1].clock: a clock offset of '+0ms' moves nothing; give one such as '-2s' (offsets are whole milliseconds)",
        "faults[2].clock: expected a signed duration such as '-2s', '+1500ms' or '-1m30s' (the sign says which way the clock goes)",
        "faults[3].clock: expected a signed duration such as '-2s', '+1500ms' or '-1m30s' (the sign says which way the clock goes)",
        "faults[4].clock: '-25h' is more than 24h, the largest clock offset faultline accepts",
      ]);
    });

    it('wants a service that exists, and not a link', () => {
      expect(onClock([{ name: 'a', at: '1s', clock: '-2s' }])).toEqual(["faults[0].service: a clock fault acts on a service: give service, e.g. 'service'"]);
      expect(onClock([{ name: 'a', at: '1s', link: 'client->id-1', clock: '-2s' }])).toEqual([
        "faults[0].service: a clock fault acts on a service: give service, e.g. 'service'",
        'faults[0].link: a clock fault acts on a service, not a link',
      ]);
      expect(onClock([clock('-2s', { service: 'id-2' })])).toEqual(["faults[0].service: design 'faked' has no service 'id-2'; its services: 'id-1' (or limit the fault with designs: [...])"]);
    });

    it('refuses a service that does not run with a fake clock, naming those that do', () => {
      expect(onClock([clock('-2s')], { faked: { target: 'clock-test', options: {} }, plain: httpService({ name: 'id-1' }) })).toEqual([
        "faults[0].clock: service 'id-1' of design 'plain' (http-service) does not run with a fake clock, so a clock fault cannot move it; no service of 'plain' does (or limit the fault with designs: [...])",
      ]);
      expect(onClock([clock('-2s', { designs: ['faked'] })], { faked: { target: 'clock-test', options: {} }, plain: httpService({ name: 'id-1' }) })).toEqual([]);
    });
  });
});
