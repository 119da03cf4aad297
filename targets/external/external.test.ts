import { describe, expect, it } from 'vitest';
import { http } from '../../harness/drivers/http-workload.ts';
import { linkNames } from '../../harness/runtime/service-spec.ts';
import { validateScenario } from '../../harness/scenario/validate-scenario.ts';
import { external, externalTarget, parseExternalUrl } from './external.ts';

/** Each problem as `field: message`, as validate-scenario reports them. */
function problems(input: unknown): string[] {
  const r = externalTarget.options.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const scenario = (designs: Record<string, unknown>, faults: unknown[] = []) => ({
  name: 'ext',
  description: 'an external service',
  designs,
  workload: http({ model: 'open', rate: 10, path: '/' }),
  duration: '5s',
  faults,
});

describe('external target options', () => {
  it('accepts loopback http and amqp urls, with or without a port', () => {
    for (const url of ['http://127.0.0.1:8080', 'http://localhost:3000/', 'http://[::1]:8080', 'http://127.0.0.1', 'amqp://127.0.0.1:5672', 'amqp://localhost']) {
      expect(problems({ url }), url).toEqual([]);
    }
    expect(problems({ url: 'http://127.0.0.1:8080', name: 'my-app', health: '/health' })).toEqual([]);
  });

  it('reads the protocol from the scheme, localhost as 127.0.0.1, and the scheme\'s port when none is given', () => {
    expect(parseExternalUrl('http://localhost:3000')).toEqual({ protocol: 'http', host: '127.0.0.1', port: 3000 });
    expect(parseExternalUrl('http://[::1]:8080')).toEqual({ protocol: 'http', host: '::1', port: 8080 });
    expect(parseExternalUrl('http://127.0.0.1')).toEqual({ protocol: 'http', host: '127.0.0.1', port: 80 });
    expect(parseExternalUrl('amqp://127.0.0.1')).toEqual({ protocol: 'amqp', host: '127.0.0.1', port: 5672 });
  });

  it('refuses any host but loopback, saying where load may go', () => {
    for (const url of ['http://10.0.0.5:8080', 'http://example.com', 'http://0.0.0.0:8080', 'http://[::]:80']) {
      const [p] = problems({ url });
      expect(p, url).toMatch(/^url: host '.*' is not this machine's loopback: faultline drives load only at 127\.0\.0\.1, ::1 or localhost, or at services it started itself/);
    }
  });

  it('names the field of a missing, empty or malformed url, an unknown scheme, and extra parts', () => {
    expect(problems({})).toEqual(['url: give the url the service listens at, e.g. http://127.0.0.1:8080']);
    expect(problems({ url: '' })).toEqual(['url: the url is empty; give the one the service listens at, e.g. http://127.0.0.1:8080']);
    expect(problems({ url: '127.0.0.1:8080' })).toEqual(["url: '127.0.0.1:8080' is not a url; give one such as http://127.0.0.1:8080"]);
    expect(problems({ url: 'not a url' })).toEqual(["url: 'not a url' is not a url; give one such as http://127.0.0.1:8080"]);
    expect(problems({ url: 'tcp://127.0.0.1:9000' })).toEqual(["url: 'tcp://' is not a protocol an external service can speak here; use http:// or amqp://"]);
    expect(problems({ url: 'http://127.0.0.1:8080/api' })[0]).toMatch(/^url: .* says more than where the service listens; give only http:\/\/127\.0\.0\.1:8080/);
    expect(problems({ url: 'amqp://guest:guest@127.0.0.1' })[0]).toMatch(/^url: .* says more than where the service listens/);
  });

  it('names bad name and health fields, and health on a protocol that is not http', () => {
    expect(problems({ url: 'http://127.0.0.1:1', name: 'App' })).toEqual(['name: use lower-case letters, digits and -']);
    expect(problems({ url: 'http://127.0.0.1:1', health: 'health' })).toEqual(["health: a path that starts with /, e.g. '/health'"]);
    expect(problems({ url: 'amqp://127.0.0.1', health: '/health' })[0]).toMatch(/^health: health is a path checked over http, but the url speaks amqp/);
    const unknown = externalTarget.options.safeParse({ url: 'http://127.0.0.1:1', port: 3 });
    expect(unknown.error?.issues.map((i) => [i.code, 'keys' in i ? i.keys : []])).toEqual([['unrecognized_keys', ['port']]]);
  });
});

describe('external target topology', () => {
  it('is one service that faultline does not start, its entry the url\'s address, its link client->app', () => {
    const t = externalTarget.topology({ url: 'http://localhost:8080' });
    expect(t.services).toHaveLength(1);
    const spec = t.services[0]!;
    expect([spec.name, spec.target, spec.ports, spec.protocols]).toEqual(['app', 'external', ['http'], { http: 'http' }]);
    expect(spec.external).toEqual({ http: { host: '127.0.0.1', port: 8080 } });
    expect(t.entries).toEqual([{ protocol: 'http', endpoints: [{ service: 'app', port: 'http' }] }]);
    expect(linkNames(t)).toEqual(['client->app']);
    expect(() => spec.local({ dir: '/x', host: '127.0.0.1', ports: {}, links: {}, advertised: {} })).toThrow(/not started by faultline/);
  });

  it('checks a TCP connect by default and GET health when given, and records the url as its version', async () => {
    expect(externalTarget.topology({ url: 'http://127.0.0.1:8080' }).services[0]!.ready.describe()).toBe('TCP connect to port (main)');
    const spec = externalTarget.topology({ url: 'http://127.0.0.1:8080', health: '/healthz', name: 'shop' }).services[0]!;
    expect(spec.name).toBe('shop');
    expect(spec.ready.describe()).toBe('HTTP 200 from GET /healthz to port (main)');
    expect(spec.program.name).toBe('external');
    expect(await spec.program.version()).toBe('http://127.0.0.1:8080');
  });

  it('speaks amqp when the url says so', () => {
    const t = externalTarget.topology({ url: 'amqp://127.0.0.1:5673' });
    expect(t.entries).toEqual([{ protocol: 'amqp', endpoints: [{ service: 'app', port: 'amqp' }] }]);
    expect(t.services[0]!.external).toEqual({ amqp: { host: '127.0.0.1', port: 5673 } });
  });

  it('builds a plain design', () => {
    expect(external({ url: 'http://127.0.0.1:8080' })).toEqual({ target: 'external', options: { url: 'http://127.0.0.1:8080' } });
  });
});

describe('external designs in a scenario', () => {
  it('takes link faults on client->app', () => {
    const r = validateScenario(scenario({ mine: external({ url: 'http://127.0.0.1:8080' }) }, [{ name: 'slow', at: '1s', for: '1s', link: 'client->app', latency: { latency: 100 } }]));
    expect(r.ok).toBe(true);
  });

  it('refuses every process fault on it, naming the service and its link', () => {
    const faults = [
      { name: 'k', at: '1s', service: 'app', kill: 'SIGKILL' },
      { name: 'p', at: '1s', for: '1s', service: 'app', pause: true },
      { name: 'r', at: '2s', service: 'app', restart: true },
      { name: 'c', at: '3s', service: 'app', clock: '-2s' },
    ];
    const r = validateScenario(scenario({ mine: external({ url: 'http://127.0.0.1:8080' }) }, faults));
    expect(r.ok).toBe(false);
    const found = r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    expect(found).toEqual(['kill', 'pause', 'restart', 'clock'].map((kind, i) =>
      `faults[${i}].service: service 'app' of design 'mine' (external) was not started by faultline, so a ${kind} fault cannot reach it; put a fault on its link 'client->app' instead (or limit the fault with designs: [...])`));
  });

  it('refuses a non-loopback url with the design\'s field path', () => {
    const r = validateScenario(scenario({ mine: external({ url: 'http://192.168.1.10:8080' }) }));
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toEqual(['designs.mine.options.url']);
  });
});
