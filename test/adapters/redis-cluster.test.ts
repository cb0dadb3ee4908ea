/**
 * RedisTokenStore on a real 3-master Redis Cluster (REDIS_CLUSTER_NODES; `.ci/run` starts one on
 * 127.0.0.1:7101-7103), with ioredis `Cluster` and node-redis `createCluster`: the conformance kit, the keys of
 * each script on one slot (a script touching two slots fails with CROSSSLOT), and `purge` on every master.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisTokenStore } from "../../src/adapters/redis.js";
import { runStoreConformance } from "../../src/testing/store-conformance.js";
import { redisClusterInterrupter } from "../helpers/interrupt.js";
import {
  type ClusterClient,
  clusterKeys,
  dropClusterPrefix,
  ioredisCluster,
  nodeRedisCluster,
} from "../helpers/redis-cluster.js";
import { describeWithService, probeRedisCluster, uniqueName } from "../helpers/services.js";
import { contractOperations, T0, token } from "../helpers/store-ops.js";

const probe = await probeRedisCluster();
const RETENTION_MS = 7 * 86_400_000;
/**
 * On a cluster an issue and a verify are two or three scripts in different slots (docs/adapters.md): a cut
 * between them leaves the first one's change without the events of the next, so the kit's atomicity cases of
 * those steps do not apply. The app steps touch only the beneficiary's slot, one script each: they are checked.
 */
const ACROSS_SLOTS =
  "on a Redis Cluster this step is several scripts in different slots, atomic each but not together";
const NOT_ATOMIC_ON_A_CLUSTER = {
  "interrupted verifyStep, right code: the token consumed and token.verified together, or neither":
    ACROSS_SLOTS,
  "interrupted verifyStep, wrong code: the attempt counted, its counter and token.rejected (token.locked) together, or none":
    ACROSS_SLOTS,
  "interrupted issueStep: the token saved, the limits' hits and the issue's events together, or none":
    ACROSS_SLOTS,
};

const drivers: { name: string; open: () => Promise<ClusterClient> }[] = [
  { name: "ioredis Cluster", open: ioredisCluster },
  { name: "node-redis createCluster", open: nodeRedisCluster },
];

describeWithService(probe, "RedisTokenStore on Redis Cluster", () => {
  for (const driver of drivers) {
    describe(`with ${driver.name}`, () => {
      let cluster: ClusterClient;
      beforeAll(async () => {
        cluster = await driver.open();
      });
      afterAll(async () => {
        await cluster?.close();
      });

      runStoreConformance({
        name: `RedisTokenStore (${driver.name})`,
        createStore: ({ namespace }) =>
          new RedisTokenStore({ client: cluster.client, prefix: namespace, eventRetentionMs: RETENTION_MS }),
        cleanup: async ({ namespace }) => dropClusterPrefix(await cluster.masters(), namespace),
        capabilities: { eventRetentionMs: RETENTION_MS },
        interrupt: redisClusterInterrupter(driver.open, { eventRetentionMs: RETENTION_MS }),
        skip: NOT_ATOMIC_ON_A_CLUSTER,
        test: { describe, it, expect },
      });

      it("every operation runs on the cluster (its keys share one slot) and ids spread over all masters", async () => {
        const prefix = uniqueName("slots");
        const store = new RedisTokenStore({ client: cluster.client, prefix });
        try {
          for (let i = 0; i < 12; i++) {
            const t = token({ tokenId: `s-${i}`, guideId: `slot-guide-${i}`, beneficiaryId: `slot-b-${i}` });
            for (const [name, op] of contractOperations(store, t, T0)) {
              await expect(op().then(() => name)).resolves.toBe(name);
            }
          }
          const perNode = await clusterKeys(await cluster.masters(), prefix);
          expect(perNode.length).toBe(3);
          for (const keys of perNode) expect(keys.length).toBeGreaterThan(0);
        } finally {
          await dropClusterPrefix(await cluster.masters(), prefix);
        }
      });

      it("purge removes every expired token, counter, claim and old event on every master (60 tokens)", async () => {
        const prefix = uniqueName("purge");
        const store = new RedisTokenStore({ client: cluster.client, prefix, eventRetentionMs: RETENTION_MS });
        try {
          const n = 60;
          for (let i = 0; i < n; i++) {
            await store.save(
              token({ tokenId: `p-${i}`, guideId: `purge-guide-${i}`, expiresAtMs: T0 + 60_000 }),
            );
            await store.increment(`purge-c-${i}`, 60_000, T0);
            await store.claimOnce(`purge-o-${i}`, T0 + 60_000, T0);
            await store.appendEvent({
              id: `pe-${i}`,
              type: "token.issued",
              atMs: T0,
              beneficiaryId: `purge-b-${i}`,
            });
          }
          const before = await clusterKeys(await cluster.masters(), prefix);
          // the data is spread: a one-node SCAN would miss most of it
          for (const keys of before) expect(keys.length).toBeGreaterThan(0);
          expect(before.flat().length).toBe(n * 5);

          expect(await store.purge(T0 + 30_000)).toEqual({ tokens: 0, events: 0 });
          const result = await store.purge(T0 + RETENTION_MS + 1);
          expect(result).toEqual({ tokens: n, events: n });
          expect((await clusterKeys(await cluster.masters(), prefix)).flat()).toEqual([]);
          for (let i = 0; i < n; i++) expect(await store.get(`purge-guide-${i}`)).toBeUndefined();
        } finally {
          await dropClusterPrefix(await cluster.masters(), prefix);
        }
      });
    });
  }
});
