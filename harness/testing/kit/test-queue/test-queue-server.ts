// One partition of the test queue: a FIFO of messages behind newline-delimited JSON over TCP.
// A measuring instrument with known faults: it acks every put, but discards every DROP_EVERY-th
// (an exact, known loss) and enqueues every DUPLICATE_EVERY-th twice. Quiet: it logs its address
// at start and its totals when it stops, nothing per message. Configured by env.
import { createServer, type AddressInfo, type Socket } from 'node:net';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 0);
const name = process.env.NAME ?? 'queue';
// Where clients should go after their hello; default: where it listens (known once it does).
let advertised = process.env.ADVERTISED ?? '';
const dropEvery = Number(process.env.DROP_EVERY ?? 0);
const duplicateEvery = Number(process.env.DUPLICATE_EVERY ?? 0);
const MAX_TAKE = 10_000;

interface Message {
  p: string;
  s: number;
}

// A queue as an array with a moving head: take is O(taken), the array is compacted now and then.
let queue: Message[] = [];
let head = 0;
let received = 0;
let dropped = 0;
let duplicated = 0;

const depth = (): number => queue.length - head;

function put(m: Message): void {
  received++;
  if (dropEvery > 0 && received % dropEvery === 0) {
    dropped++;
    return;
  }
  queue.push(m);
  if (duplicateEvery > 0 && received % duplicateEvery === 0) {
    queue.push(m);
    duplicated++;
  }
}

function take(max: number): Message[] {
  const msgs = queue.slice(head, head + max);
  head += msgs.length;
  if (head > 4096 && head * 2 > queue.length) {
    queue = queue.slice(head);
    head = 0;
  }
  return msgs;
}

function answer(line: string): unknown {
  let req: { op?: unknown; p?: unknown; s?: unknown; max?: unknown };
  try {
    req = JSON.parse(line) as typeof req;
  } catch {
    return { error: 'not JSON: send one JSON object per line' };
  }
  switch (req.op) {
    case 'hello':
      return { advertised, name };
    case 'put':
      if (typeof req.p !== 'string' || !Number.isSafeInteger(req.s)) return { error: 'put needs p (a string) and s (an integer)' };
      put({ p: req.p, s: req.s as number });
      return { ack: req.s };
    case 'take': {
      const max = Number.isSafeInteger(req.max) && (req.max as number) > 0 ? Math.min(req.max as number, MAX_TAKE) : 1;
      return { msgs: take(max), depth: depth() };
    }
    case 'stats':
      return { depth: depth(), received, dropped, duplicated };
    default:
      return { error: `unknown op ${JSON.stringify(req.op)}; ops: hello, put, take, stats` };
  }
}

const sockets = new Set<Socket>();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  let buffer = '';
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    const out: string[] = [];
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      out.push(JSON.stringify(answer(buffer.slice(0, nl))));
      buffer = buffer.slice(nl + 1);
    }
    // Answers to one chunk of requests leave in one write, in the order asked.
    if (out.length > 0) socket.write(`${out.join('\n')}\n`);
  });
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
});

server.listen(port, host, () => {
  const bound = server.address() as AddressInfo;
  const listening = `${bound.address}:${bound.port}`;
  advertised ||= listening;
  process.stdout.write(`test-queue ${name} pid ${process.pid} listening on ${listening}, advertising ${advertised}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    // The independent truth a test compares the checkers with (stdout is a file: written at once).
    process.stdout.write(`test-queue final: name=${name} received=${received} dropped=${dropped} duplicated=${duplicated} depth=${depth()}\n`);
    server.close();
    for (const s of sockets) s.destroy();
    process.exit(0);
  });
}

// Exit when the process that started us is gone (we were re-parented), so a harness killed with
// SIGKILL leaves no partition behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
