/**
 * A `redis-server` of the fault suites' own, on a free loopback port: started, paused (SIGSTOP), killed and
 * restarted mid-run. Standalone, or a cluster node (`extraArgs`).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import Redis from "ioredis";

/** Whether the `redis-server` binary is installed. */
export const hasRedisBinary = spawnSync("redis-server", ["--version"]).status === 0;

/** Whether `port` can be bound on 127.0.0.1 right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

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

/**
 * A port for a cluster node: free, at most 55535, and with its cluster bus port (10,000 higher, which
 * redis-server binds too, or refuses to start) free as well.
 */
export async function freeClusterPort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await freePort();
    if (port <= 55535 && (await canBind(port + 10_000))) return port;
  }
  throw new Error("no free port pair for a cluster node (port and port + 10000)");
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
  /**
   * Starts the server and waits until it answers, and answers as this process: another server that took the
   * port meanwhile (ports are picked free, then bound by the child) would otherwise stand in for it, and a
   * pause or a kill of the child would not reach the server the tests talk to.
   */
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
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#child = child;
    let log = "";
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString("utf8")).slice(-2000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    const pid = child.pid;
    await waitFor(async () => {
      if (exited()) return true;
      const info = String(await callOnce(this.port, "INFO", "server"));
      return new RegExp(`^process_id:${pid}\\r?$`, "m").test(info);
    }, `redis-server (pid ${pid}) on ${this.port}`);
    if (exited()) throw new Error(`redis-server on ${this.port} exited at start:\n${log}`);
    child.stdout?.off("data", keep).resume();
    child.stderr?.off("data", keep).resume();
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
