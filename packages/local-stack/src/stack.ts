/**
 * The services as plain processes (`node --import tsx <service>/src/main.ts`, or with `compiled` the
 * bundles of `npm run build`, `node <service>/dist/main.js`), the way compose runs them: used by `npm start`, the scaling test and the benchmarks. Ports are the configured ones, or
 * free ones with `freePorts`; each service's URL is passed to the others through the usual env vars.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PORTS } from '@drive-import/common';
import { freePort, waitFor } from './ports.ts';
import { randomSecret } from './secrets.ts';

/** In start order: each one's dependencies come up before it. */
export const SERVICES = [
  // Its live heap stays ~60 MB at any job size (everything is chunked); without a cap V8 lets the heap
  // grow to several times that under a million-file listing. Compose and Kubernetes set the same.
  { name: 'metadata-service', entry: 'metadata-service/src/main.ts', portVar: 'METADATA_SERVICE_PORT', urlVar: 'METADATA_SERVICE_URL', nodeArgs: ['--max-old-space-size=256'] },
  { name: 'storage-service', entry: 'storage-service/src/main.ts', portVar: 'STORAGE_SERVICE_PORT', urlVar: 'STORAGE_SERVICE_URL' },
  { name: 'import-service', entry: 'import-service/src/main.ts', portVar: 'IMPORT_SERVICE_PORT', urlVar: 'IMPORT_SERVICE_URL' },
  // A young generation of 4 MB, not V8's default 16: the copy loop's garbage is short-lived buffers,
  // scavenged as cheaply in small steps. An old space of 160 MB: V8's heap stays under 45 MB, but
  // the bodies' buffers outside it are freed only by a GC, and left to itself V8 let RSS reach
  // 190-215 MB in S1; capped it collects sooner and peaks near 130 MB, for ~0.2 ms more CPU per
  // file (docs/performance.md).
  { name: 'worker', entry: 'worker/src/main.ts', portVar: 'WORKER_PORT', urlVar: 'WORKER_URL', nodeArgs: ['--max-semi-space-size=4', '--max-old-space-size=160'] },
  { name: 'gateway', entry: 'gateway/src/main.ts', portVar: 'GATEWAY_PORT', urlVar: null },
] as const;
export type ServiceName = (typeof SERVICES)[number]['name'];

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface StackProcess {
  name: ServiceName;
  url: string;
  /** The current process (a new one after each restart). */
  child: ChildProcess;
  /** SIGTERM (graceful) by default; resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface Stack {
  /** The env every service got, with ports and URLs filled in. */
  env: NodeJS.ProcessEnv;
  gatewayUrl: string;
  /** `Authorization: Bearer <ADMIN_TOKEN>` for the gateway's API. */
  adminHeaders: { authorization: string };
  /** `Authorization: Bearer <INTERNAL_TOKEN>` for a service's own routes (/metrics of a worker). */
  internalHeaders: { authorization: string };
  processes: StackProcess[];
  /** Start one more process of a service (e.g. another worker) on a free port. */
  add(name: ServiceName, extraEnv?: NodeJS.ProcessEnv): Promise<StackProcess>;
  stop(): Promise<void>;
}

export interface StackOptions {
  env: NodeJS.ProcessEnv;
  /** Which services, in start order (default: all). */
  services?: readonly ServiceName[];
  freePorts?: boolean;
  /** Where the services' logs go (default: inherit); 'pipe' hands every chunk to `onOutput`. */
  stdio?: 'inherit' | 'ignore' | 'pipe';
  onOutput?: (name: ServiceName, chunk: Buffer) => void;
  /** Called when a process exits that nobody asked to stop. */
  onUnexpectedExit?: (name: ServiceName, code: number | null, signal: NodeJS.Signals | null) => void;
  /** Start a service again when it exits unexpectedly (same port and env); default: no restarts. */
  restart?: RestartPolicy;
  /** Run the compiled bundles (`npm run build`: <service>/dist/main.js) instead of the sources through tsx. */
  compiled?: boolean;
}

/**
 * Restarts with exponential backoff (baseDelayMs, doubling, capped at maxDelayMs). A service that
 * exits `maxCrashes` times within `windowMs` is left down and `onGiveUp` is told.
 */
export interface RestartPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  maxCrashes: number;
  windowMs: number;
  onRestart?: (name: ServiceName, info: { code: number | null; signal: NodeJS.Signals | null; crashes: number; delayMs: number }) => void;
  onGiveUp?: (name: ServiceName, info: { crashes: number; windowMs: number; code: number | null; signal: NodeJS.Signals | null }) => void;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const env: NodeJS.ProcessEnv = { ...options.env };
  // The services' shared secret: every stack has one (npm start passes the one it keeps in .data/).
  env.INTERNAL_TOKEN ||= randomSecret();
  // An admin API token, so whoever started the stack (a test, a benchmark) can call it.
  env.ADMIN_TOKEN ||= randomSecret();
  const wanted = options.services ?? SERVICES.map((s) => s.name);
  for (const s of SERVICES) {
    const port = options.freePorts ? await freePort() : Number(env[s.portVar] ?? DEFAULT_PORTS[s.name]);
    env[s.portVar] = String(port);
    if (s.urlVar) env[s.urlVar] = `http://127.0.0.1:${port}`;
  }
  const processes: StackProcess[] = [];

  function spawnService(name: ServiceName, processEnv: NodeJS.ProcessEnv): ChildProcess {
    const spec = SERVICES.find((s) => s.name === name)!;
    // PROFILE_SERVICES=worker,metadata-service writes a V8 CPU profile per process at exit (for benchmarks).
    const profile = (processEnv.PROFILE_SERVICES ?? '').split(',').includes(name);
    const profileArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${processEnv.PROFILE_DIR ?? 'profiles'}`] : [];
    const nodeArgs: readonly string[] = 'nodeArgs' in spec ? spec.nodeArgs : [];
    const entry = options.compiled ? ['--enable-source-maps', spec.entry.replace('/src/main.ts', '/dist/main.js')] : ['--import', 'tsx', spec.entry];
    const child = spawn(process.execPath, [...profileArgs, ...nodeArgs, ...entry], {
      cwd: REPO_ROOT,
      env: processEnv,
      stdio: ['ignore', options.stdio ?? 'inherit', options.stdio ?? 'inherit'],
    });
    if (options.stdio === 'pipe') {
      const forward = (chunk: Buffer) => options.onOutput?.(name, chunk);
      child.stdout?.on('data', forward);
      child.stderr?.on('data', forward);
    }
    return child;
  }

  async function launch(name: ServiceName, processEnv: NodeJS.ProcessEnv, port: string): Promise<StackProcess> {
    const url = `http://127.0.0.1:${port}`;
    const policy = options.restart;
    let stopping = false;
    let exited: Promise<void> = Promise.resolve();
    let restartTimer: NodeJS.Timeout | undefined;
    const crashes: number[] = []; // times of unexpected exits within the policy's window

    const start = (): ChildProcess => {
      const child = spawnService(name, processEnv);
      proc.child = child;
      exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.once('exit', (code, signal) => {
        if (stopping) return;
        options.onUnexpectedExit?.(name, code, signal);
        if (!policy) return;
        const now = Date.now();
        crashes.push(now);
        while (crashes[0]! < now - policy.windowMs) crashes.shift();
        if (crashes.length >= policy.maxCrashes) {
          policy.onGiveUp?.(name, { crashes: crashes.length, windowMs: policy.windowMs, code, signal });
          return;
        }
        const delayMs = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (crashes.length - 1));
        policy.onRestart?.(name, { code, signal, crashes: crashes.length, delayMs });
        restartTimer = setTimeout(() => {
          if (!stopping) start();
        }, delayMs);
      });
      return child;
    };
    const proc: StackProcess = {
      name,
      url,
      child: undefined as unknown as ChildProcess, // set by start() just below
      stop: async (signal = 'SIGTERM') => {
        stopping = true;
        clearTimeout(restartTimer);
        if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
        await exited;
      },
    };
    const first = start();
    processes.push(proc);
    let lastAnswer = 'no answer yet';
    await waitFor(
      `${name} to answer ${url}/health`,
      async () => {
        if (first.exitCode !== null) throw new Error(`${name} exited with code ${first.exitCode}`);
        // Bounded, so a /health that hangs cannot stall the wait past its deadline; the last answer
        // (e.g. which check is failing) is kept for the timeout's message.
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).catch((err: Error) => err);
        if (res instanceof Error) {
          lastAnswer = res.message;
          return false;
        }
        lastAnswer = `${res.status} ${(await res.text()).slice(0, 500)}`;
        return res.ok;
      },
      60_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (its last /health answer: ${lastAnswer})`);
    });
    return proc;
  }

  const stack: Stack = {
    env,
    gatewayUrl: `http://127.0.0.1:${env.GATEWAY_PORT}`,
    adminHeaders: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
    internalHeaders: { authorization: `Bearer ${env.INTERNAL_TOKEN}` },
    processes,
    add: async (name, extraEnv = {}) => {
      const spec = SERVICES.find((s) => s.name === name)!;
      const port = String(await freePort());
      return launch(name, { ...env, ...extraEnv, [spec.portVar]: port }, port);
    },
    // Stop in reverse start order, so nothing is left calling a service that is gone.
    stop: async () => {
      for (const p of [...processes].reverse()) await p.stop();
    },
  };
  try {
    // All at once: each one's /health turns ok once the services it needs answer, so nothing waits
    // for more than its own dependencies (processes keep the start order: stop goes in reverse).
    await Promise.all(
      wanted.map((name) => {
        const spec = SERVICES.find((s) => s.name === name)!;
        return launch(name, env, env[spec.portVar]!);
      }),
    );
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}
