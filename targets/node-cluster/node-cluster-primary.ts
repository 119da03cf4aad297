// node:cluster primary: forks WORKERS copies of the http-service, all sharing one port.
// SCHEDULING=round-robin (the primary accepts and hands connections out, Node's default on
// Linux) or os (every worker accepts on the shared socket; the kernel picks).
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';

const workers = Number(process.env.WORKERS ?? 2);
const respawn = process.env.RESPAWN !== 'false';
cluster.schedulingPolicy = process.env.SCHEDULING === 'os' ? cluster.SCHED_NONE : cluster.SCHED_RR;
cluster.setupPrimary({
  // The worker program beside this one: TypeScript in the repository, compiled in the installed package.
  exec: fileURLToPath(new URL(`../http-service/http-service-server${import.meta.url.endsWith('.js') ? '.js' : '.ts'}`, import.meta.url)),
  silent: false,
});

let stopping = false;
for (let i = 0; i < workers; i++) cluster.fork();
process.stdout.write(`node-cluster primary pid ${process.pid} forked ${workers} workers\n`);

cluster.on('exit', (worker, code, signal) => {
  if (stopping) return;
  process.stdout.write(`worker pid ${worker.process.pid} ${signal ? `killed by ${signal}` : `exited with ${code}`}${respawn ? '; forking a new one' : ''}\n`);
  if (respawn) cluster.fork();
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 1500).unref();
    cluster.disconnect(() => process.exit(0));
  });
}

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
}, 1000).unref();
