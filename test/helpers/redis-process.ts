/**
 * A `redis-server` of the fault suites' own, on a free loopback port: started, paused (SIGSTOP), killed and
 * restarted mid-run. Standalone, or a cluster node (`extraArgs`).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import Redis from "ioredis";

/** Whether the `redis-server` binary is installed. */
export const hasRedisBinary = spawnSync("redis-server", ["--version"]).status === 0;

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Polls `check` every 50 ms until it resolves true; rejects after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Sends one command to 127.0.0.1:`port` on a throwaway connection. */
export async function callOnce(port: number, ...args: string[]): Promise<unknown> {
  const probe = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return await probe.call(args[0]!, ...args.slice(1));
  } finally {
    probe.disconnect();
  }
}

/** One `redis-server` child process without persistence. */
export class RedisProcess {
  #child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly extraArgs: readonly string[] = [],
  ) {}
  async start(): Promise<void> {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        ...this.extraArgs,
      ],
      { stdio: "ignore" },
    );
    this.#child = child;
    await waitFor(async () => (await callOnce(this.port, "PING")) === "PONG", `redis-server on ${this.port}`);
  }
  signal(sig: NodeJS.Signals): void {
    this.#child?.kill(sig);
  }
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }
}
