// Builds the docker runtime's images without a container registry, for machines (CI, this
// one) that cannot pull: a Debian base from debootstrap + `docker import`, then node (the host's
// own Node binary copied in), haproxy, nginx, redis and rabbitmq (Debian's packages, apt inside the
// build), kafka (Debian's Java 17 and the broker jars the set-up fetched with Maven) and
// toxiproxy (the binary the set-up built with `go install`). Idempotent: a tag that
// exists is kept. Point the runtime at them with `localImages` (FAULTLINE_IMAGE_<KEY> variables).
//   node harness/tooling/docker/build-images.ts
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findGoTool, goTools } from '../../base/go-tools.mjs';
import { findMavenTool, mavenTools } from '../setup/maven-tools.mjs';
import type { ImageKey } from '../../runtime/images.ts';

const BASE = 'faultline-local/debian:bookworm';

/** The local tag of each image this script builds, by image key. */
export const localImages = {
  node: 'faultline-local/node:22',
  haproxy: 'faultline-local/haproxy:2.6',
  nginx: 'faultline-local/nginx:1.22',
  redis: 'faultline-local/redis:7.0',
  rabbitmq: 'faultline-local/rabbitmq:3.10',
  kafka: 'faultline-local/kafka:4.1.1',
  toxiproxy: 'faultline-local/toxiproxy:2.12.0',
} as const satisfies Partial<Record<ImageKey, string>>;

/** `FAULTLINE_IMAGE_<KEY>` variables that point the docker runtime at the local images. */
export function localImageEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(localImages).map(([k, v]) => [`FAULTLINE_IMAGE_${k.toUpperCase()}`, v]));
}

function run(command: string, args: string[], opts: SpawnSyncOptions = {}): void {
  process.stdout.write(`build-images: $ ${command} ${args.join(' ')}\n`);
  const r = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`'${command} ${args.join(' ')}' exited with ${r.status ?? r.signal}`);
}

function imageExists(tag: string): boolean {
  return spawnSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' }).status === 0;
}

/** The Debian mirror apt uses on this machine (deb822 `URIs:` or a one-line `deb` entry). */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list', ...safeList('/etc/apt/sources.list.d').filter((f) => /\.(list|sources)$/.test(f)).map((f) => join('/etc/apt/sources.list.d', f))];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const m = /^\s*URIs:\s*(\S+)/.exec(line) ?? /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/.exec(line);
      if (m && /\/debian\/?$/.test(m[1]!)) return m[1]!;
    }
  }
  throw new Error('no Debian mirror found in /etc/apt/sources.list(.d)');
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Builds `tag` from a Dockerfile and the files copied into a fresh context dir. */
function build(tag: string, dockerfile: string, files: Record<string, string> = {}): void {
  if (imageExists(tag)) {
    process.stdout.write(`build-images: ${tag} exists, kept\n`);
    return;
  }
  const ctx = mkdtempSync(join(tmpdir(), 'faultline-image-'));
  try {
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile);
    for (const [name, from] of Object.entries(files)) copyFileSync(from, join(ctx, name));
    run('docker', ['build', '-q', '-t', tag, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

function buildBase(): void {
  if (imageExists(BASE)) {
    process.stdout.write(`build-images: ${BASE} exists, kept\n`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'faultline-rootfs-'));
  try {
    run('debootstrap', ['--variant=minbase', 'bookworm', dir, debianMirror()], { stdio: ['ignore', 'ignore', 'inherit'] });
    run('sh', ['-c', `tar -C "${dir}" -c . | docker import - ${BASE}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const apt = (packages: string) =>
  `RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages} && rm -rf /var/lib/apt/lists/*\n`;

/**
 * The official image's layout where it matters: the broker's jars in /opt/kafka/libs, `java` on
 * PATH. The jars are those of the tool cache, so both runtimes run the same broker; Java is
 * Debian's 17 (Kafka 4 brokers need 17 or later).
 */
function buildKafka(): void {
  const tool = mavenTools.find((t) => t.name === 'kafka')!;
  const classPath = findMavenTool(tool);
  if (!classPath) throw new Error(`the Kafka broker's jars (${tool.groupId}:${tool.artifactId}:${tool.version}) are not in the tool cache: run 'npm run setup' first`);
  const lib = dirname(classPath);
  const jars = Object.fromEntries(readdirSync(lib).filter((f) => f.endsWith('.jar')).map((f) => [f, join(lib, f)]));
  build(localImages.kafka, `FROM ${BASE}\n${apt('openjdk-17-jre-headless')}COPY *.jar /opt/kafka/libs/\n`, jars);
}

/** Builds every local image that is missing. */
export function buildImages(): void {
  buildBase();
  build(localImages.node, `FROM ${BASE}\nCOPY node /usr/local/bin/node\n`, { node: process.execPath });
  build(localImages.haproxy, `FROM ${BASE}\n${apt('haproxy')}`);
  build(localImages.nginx, `FROM ${BASE}\n${apt('nginx')}`);
  // The official image's layout where it matters: `redis-server` on PATH, /data made and the
  // working dir (the redis target keeps its append-only file there).
  build(localImages.redis, `FROM ${BASE}\n${apt('redis-server')}RUN mkdir -p /data\nWORKDIR /data\n`);
  // The official image's layout where it matters: the real server script (not Debian's
  // /usr/sbin wrapper, which switches users) as `rabbitmq-server` on PATH. The imported base
  // has no PATH of its own to extend.
  build(localImages.rabbitmq, `FROM ${BASE}\n${apt('rabbitmq-server')}ENV PATH=/usr/lib/rabbitmq/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n`);
  buildKafka();
  const toxiproxy = findGoTool(goTools.find((t) => t.command === 'toxiproxy-server')!);
  if (!toxiproxy) throw new Error("toxiproxy-server not found: run 'npm run setup' first");
  // The same layout as the official image: the server at /toxiproxy.
  build(localImages.toxiproxy, `FROM ${BASE}\nCOPY toxiproxy /toxiproxy\nENTRYPOINT ["/toxiproxy"]\nCMD ["-host=0.0.0.0"]\n`, { toxiproxy });
}

if (import.meta.main) {
  try {
    buildImages();
  } catch (err) {
    process.stderr.write(`build-images failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
