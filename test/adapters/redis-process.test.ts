/**
 * The fault suites' own redis-server children: a child counts as started only when the server on its port is
 * that child, so a pause or a kill of it reaches the server the tests talk to.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  callOnce,
  freeClusterPort,
  freePort,
  hasRedisBinary,
  RedisProcess,
} from "../helpers/redis-process.js";
import { IN_CI } from "../helpers/services.js";

const suite = hasRedisBinary || IN_CI ? describe : describe.skip;
if (!hasRedisBinary && !IN_CI)
  console.warn("[health-token tests] SKIPPING redis-server child tests: no redis-server binary");

suite("RedisProcess (the fault suites' redis-server children)", () => {
  const started: RedisProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.kill()));
  });

  it("refuses to count another server on its port as itself", async () => {
    const port = await freePort();
    const first = new RedisProcess(port);
    started.push(first);
    await first.start();
    const second = new RedisProcess(port);
    started.push(second);
    // the second child cannot bind the port and exits; the first one's PONG must not stand in for it
    await expect(second.start()).rejects.toThrow(/exited at start|timed out/);
    expect(await callOnce(port, "PING")).toBe("PONG");
  });

  it("gives cluster nodes a port whose bus port (10,000 higher) is free too", async () => {
    for (let i = 0; i < 20; i++) {
      const port = await freeClusterPort();
      expect(port).toBeLessThanOrEqual(55_535);
    }
  });
});
