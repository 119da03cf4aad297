import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** What a service has cost so far: CPU time since it started (user + system, µs) and its resident memory now (bytes). */
export interface Usage {
  cpuUs: number;
  rssBytes: number;
}

/** The fields of one `/proc/<pid>/stat` line that faultline reads (proc(5)). */
export interface ProcStat {
  pid: number;
  /** The command name, without its parentheses (it may itself hold spaces and parentheses). */
  comm: string;
  /** Field 4. */
  ppid: number;
  /** Field 5: the process group id. */
  pgrp: number;
  /** Fields 14–17, in clock ticks: its own user and system time, and that of the children it waited for. */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Field 24, in pages. */
  rssPages: number;
}

/**
 * Parses one `/proc/<pid>/stat` line, or undefined when it is not one. The command name sits in
 * parentheses and may hold anything, `)` and spaces included, so the fields after it are found
 * from its last `)`.
 */
export function parseStat(line: string): ProcStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  // After the name: field 3 (state) is at index 0, so field n is at index n - 3.
  const f = line.slice(close + 1).trim().split(/\s+/);
  const at = (field: number) => Number(f[field - 3]);
  const stat: ProcStat = { pid, comm: line.slice(open + 1, close), ppid: at(4), pgrp: at(5), utime: at(14), stime: at(15), cutime: at(16), cstime: at(17), rssPages: at(24) };
  const numbers = [pid, stat.ppid, stat.pgrp, stat.utime, stat.stime, stat.cutime, stat.cstime, stat.rssPages];
  return numbers.every(Number.isInteger) ? stat : undefined;
}

let constants: { usPerTick: number; pageBytes: number } | undefined;

/** Clock ticks and the page size, asked of `getconf` once (100 Hz and 4096 bytes when it cannot say). */
function procConstants(): { usPerTick: number; pageBytes: number } {
  if (!constants) {
    const ask = (name: string, fallback: number) => {
      const n = Number(spawnSync('getconf', [name], { encoding: 'utf8' }).stdout?.trim());
      return Number.isInteger(n) && n > 0 ? n : fallback;
    };
    constants = { usPerTick: 1_000_000 / ask('CLK_TCK', 100), pageBytes: ask('PAGESIZE', 4096) };
  }
  return constants;
}

/**
 * The cost of processes together: their CPU time, including that of children they reaped (a
 * worker that exits leaves its time with the parent, so the sum does not drop when one goes),
 * and their resident memory.
 */
export function usageOf(stats: readonly ProcStat[], c = procConstants()): Usage {
  let ticks = 0;
  let pages = 0;
  for (const s of stats) {
    ticks += s.utime + s.stime + s.cutime + s.cstime;
    pages += s.rssPages;
  }
  return { cpuUs: Math.round(ticks * c.usPerTick), rssBytes: pages * c.pageBytes };
}

/** Stat files read between two turns of the event loop (about 20 µs each). */
const STATS_PER_TURN = 32;

/** Every process's stat line, read now; processes that end while being read are left out. */
export async function readAllStats(procDir = '/proc'): Promise<ProcStat[]> {
  const pids = (await readdir(procDir)).filter((n) => /^\d+$/.test(n));
  const stats: ProcStat[] = [];
  // Read synchronously in small batches: a /proc file is in memory, and a promise per file
  // costs several times the CPU (~170 µs against ~20 µs each, measured here), which would be
  // charged to the load generator. Yielding between batches keeps the pacer on time.
  for (let i = 0; i < pids.length; i += STATS_PER_TURN) {
    if (i > 0) await yieldToLoop();
    for (const pid of pids.slice(i, i + STATS_PER_TURN)) {
      try {
        const s = parseStat(readFileSync(`${procDir}/${pid}/stat`, 'utf8'));
        if (s) stats.push(s);
      } catch {
        // It ended while we looked.
      }
    }
  }
  return stats;
}

/** How long one scan of /proc serves every service asking (ms): a sampling pass asks for all of them at once. */
const SCAN_SHARED_MS = 100;
let lastScan: { atMs: number; stats: Promise<ProcStat[]> } | undefined;

/** A scan of /proc started less than SCAN_SHARED_MS ago, or a new one. */
function sharedScan(): Promise<ProcStat[]> {
  const now = performance.now();
  if (!lastScan || now - lastScan.atMs > SCAN_SHARED_MS) lastScan = { atMs: now, stats: readAllStats() };
  return lastScan.stats;
}

/** The cost of every process of a process group (a service and its workers); undefined when none is left. */
export async function groupUsage(pgid: number): Promise<Usage | undefined> {
  const members = (await sharedScan()).filter((s) => s.pgrp === pgid);
  return members.length === 0 ? undefined : usageOf(members);
}

/** The cost of a process and all its descendants; undefined when it is gone. */
export async function treeUsage(rootPid: number): Promise<Usage | undefined> {
  const all = await sharedScan();
  const children = new Map<number, ProcStat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const root = all.find((s) => s.pid === rootPid);
  if (!root) return undefined;
  const tree: ProcStat[] = [];
  const queue = [root];
  for (let s = queue.shift(); s; s = queue.shift()) {
    tree.push(s);
    queue.push(...(children.get(s.pid) ?? []));
  }
  return usageOf(tree);
}

/** Where a process's cgroup keeps its CPU and memory accounting, as read from `/proc/<pid>/cgroup`. */
export type CgroupPaths =
  | { version: 1; cpuacct: string; memory: string }
  | { version: 2; dir: string };

/**
 * The cgroup directories of a process (a container's first process): cgroup v1 when its
 * `cpuacct` and `memory` hierarchies are listed, else the v2 unified one. Undefined when the
 * process is gone or lists neither.
 */
export async function cgroupPaths(pid: number, procDir = '/proc', cgroupRoot = '/sys/fs/cgroup'): Promise<CgroupPaths | undefined> {
  let text: string;
  try {
    text = await readFile(`${procDir}/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter(Boolean).map((l) => {
    const [, controllers = '', path = ''] = /^(?:\d+):([^:]*):(.*)$/.exec(l) ?? [];
    return { controllers: controllers.split(','), path };
  });
  const v1 = (name: string) => lines.find((l) => l.controllers.includes(name))?.path;
  const cpuacct = v1('cpuacct');
  const memory = v1('memory');
  if (cpuacct !== undefined && memory !== undefined) return { version: 1, cpuacct: `${cgroupRoot}/cpuacct${cpuacct}`, memory: `${cgroupRoot}/memory${memory}` };
  const unified = lines.find((l) => l.controllers.length === 1 && l.controllers[0] === '')?.path;
  return unified === undefined ? undefined : { version: 2, dir: `${cgroupRoot}${unified}` };
}

/** One `key value` line's value of a `memory.stat` / `cpu.stat` file, 0 when absent. */
function statValue(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * A cgroup's cost: its CPU time (cpuacct.usage in ns for v1, cpu.stat usage_usec for v2) and
 * the memory charged to it that RSS would count: anonymous plus mapped file memory
 * (memory.stat; memory.usage_in_bytes would add the page cache). File pages are charged to the
 * cgroup that first read them, so this may be well below the processes' RSS. Throws when the
 * files cannot be read.
 */
export async function cgroupUsage(paths: CgroupPaths): Promise<Usage> {
  if (paths.version === 1) {
    const [usage, stat] = await Promise.all([readFile(`${paths.cpuacct}/cpuacct.usage`, 'utf8'), readFile(`${paths.memory}/memory.stat`, 'utf8')]);
    return { cpuUs: Math.round(Number(usage.trim()) / 1000), rssBytes: statValue(stat, 'total_rss') + statValue(stat, 'total_mapped_file') };
  }
  const [cpu, stat] = await Promise.all([readFile(`${paths.dir}/cpu.stat`, 'utf8'), readFile(`${paths.dir}/memory.stat`, 'utf8')]);
  return { cpuUs: statValue(cpu, 'usage_usec'), rssBytes: statValue(stat, 'anon') + statValue(stat, 'file_mapped') };
}
