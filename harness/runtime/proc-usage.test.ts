import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupPaths, cgroupUsage, groupUsage, parseStat, readAllStats, treeUsage, usageOf } from './proc-usage.ts';

/** A stat line of a process whose name holds spaces and parentheses (comm may be anything up to 15 bytes). */
const ODD = '4242 (a) b (c) d) S 1 4200 4200 0 -1 4194560 5190 0 3 0 250 75 12 8 20 0 9 0 123456 1203404800 2150 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0';

function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'proc-usage-'));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

describe('parseStat', () => {
  it('finds the fields after the last parenthesis, whatever the command name holds', () => {
    expect(parseStat(ODD)).toEqual({ pid: 4242, comm: 'a) b (c) d', ppid: 1, pgrp: 4200, utime: 250, stime: 75, cutime: 12, cstime: 8, rssPages: 2150 });
    expect(usageOf([parseStat(ODD)!], { usPerTick: 10_000, pageBytes: 4096 })).toEqual({ cpuUs: 3_450_000, rssBytes: 2150 * 4096 });
  });

  it('refuses what is not a stat line', () => {
    expect(parseStat('')).toBeUndefined();
    expect(parseStat('12 (x) S 1 2')).toBeUndefined();
  });

  it('reads the real /proc of this process: its own pid, CPU time and resident memory', () => {
    burn(200);
    const before = process.cpuUsage();
    const own = parseStat(readFileSync('/proc/self/stat', 'utf8'))!;
    expect(own.pid).toBe(process.pid);
    expect(own.ppid).toBe(process.ppid);
    const { cpuUs, rssBytes } = usageOf([{ ...own, cutime: 0, cstime: 0 }]);
    // Ticks are 10 ms: the two clocks agree to a few ticks.
    expect(Math.abs(cpuUs - (before.user + before.system))).toBeLessThan(50_000);
    expect(rssBytes / process.memoryUsage.rss()).toBeGreaterThan(0.8);
    expect(rssBytes / process.memoryUsage.rss()).toBeLessThan(1.25);
  });
});

describe('groupUsage and treeUsage', () => {
  it('sum every process of the group, and of the tree under a pid', async () => {
    const own = parseStat(readFileSync('/proc/self/stat', 'utf8'))!;
    const child = spawn('sleep', ['10'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      const stats = await readAllStats();
      expect(stats.some((s) => s.pid === child.pid && s.ppid === process.pid)).toBe(true);
      const group = (await groupUsage(own.pgrp))!;
      const mine = usageOf(stats.filter((s) => s.pid === process.pid));
      expect(group.rssBytes).toBeGreaterThanOrEqual(mine.rssBytes * 0.9);
      const under = (await treeUsage(process.pid))!;
      const sleeper = usageOf(stats.filter((s) => s.pid === child.pid));
      expect(under.rssBytes).toBeGreaterThan(sleeper.rssBytes);
      expect(await treeUsage(2 ** 22 + 1)).toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('cgroups', () => {
  it('find the v1 cpuacct and memory directories, or the v2 unified one', async () => {
    const proc = tree({
      '7/cgroup': '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n',
      '8/cgroup': '0::/system.slice/docker-abc.scope\n',
    });
    expect(await cgroupPaths(7, proc, '/cg')).toEqual({ version: 1, cpuacct: '/cg/cpuacct/docker/abc', memory: '/cg/memory/docker/abc' });
    expect(await cgroupPaths(8, proc, '/cg')).toEqual({ version: 2, dir: '/cg/system.slice/docker-abc.scope' });
    expect(await cgroupPaths(9, proc, '/cg')).toBeUndefined();
  });

  it('read CPU time and anonymous plus mapped memory, not the page cache', async () => {
    const cg = tree({
      'cpuacct/c/cpuacct.usage': '1234567890\n',
      'memory/c/memory.stat': 'cache 999999\nrss 100\nmapped_file 10\ntotal_cache 999999\ntotal_rss 40960\ntotal_mapped_file 8192\n',
      'v2/cpu.stat': 'usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\n',
      'v2/memory.stat': 'anon 65536\nfile 999999\nfile_mapped 4096\n',
    });
    expect(await cgroupUsage({ version: 1, cpuacct: `${cg}/cpuacct/c`, memory: `${cg}/memory/c` })).toEqual({ cpuUs: 1_234_568, rssBytes: 40960 + 8192 });
    expect(await cgroupUsage({ version: 2, dir: `${cg}/v2` })).toEqual({ cpuUs: 5000, rssBytes: 65536 + 4096 });
    await expect(cgroupUsage({ version: 2, dir: `${cg}/gone` })).rejects.toThrow();
  });
});
