/**
 * Clients of the suites' Redis Cluster (REDIS_CLUSTER_NODES) for both drivers, and a prefix sweep that visits
 * every master (a plain SCAN sees one node only).
 */
import { Cluster } from "ioredis";
import { createCluster } from "redis";
import { REDIS_CLUSTER_NODES } from "./services.js";

/** A `Send` to one node. */
export type NodeSend = (args: string[]) => Promise<unknown>;

/** A connected cluster client of one driver, a `Send` per master, and how to close it. */
export interface ClusterClient {
  readonly client: Cluster | ReturnType<typeof createCluster>;
  masters(): Promise<NodeSend[]>;
  close(): Promise<void>;
}

/** An ioredis `Cluster` on REDIS_CLUSTER_NODES, ready. */
export async function ioredisCluster(): Promise<ClusterClient> {
  const client = new Cluster(REDIS_CLUSTER_NODES, { redisOptions: { maxRetriesPerRequest: 1 } });
  client.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    client.once("ready", resolve);
    client.once("end", () => reject(new Error("ioredis Cluster closed before it was ready")));
  });
  return {
    client,
    masters: async () => client.nodes("master").map((n) => (a: string[]) => n.call(a[0]!, ...a.slice(1))),
    close: async () => client.disconnect(),
  };
}

/** A node-redis cluster (`createCluster`) on REDIS_CLUSTER_NODES, connected. */
export async function nodeRedisCluster(): Promise<ClusterClient> {
  const client = createCluster({
    rootNodes: REDIS_CLUSTER_NODES.map((n) => ({ url: `redis://${n.host}:${n.port}` })),
  });
  client.on("error", () => {});
  await client.connect();
  return {
    client,
    masters: () =>
      Promise.all(
        client.masters.map(async (m) => {
          const node = await client.nodeClient(m);
          return (a: string[]) => node.sendCommand(a);
        }),
      ),
    close: async () => {
      await client.close();
    },
  };
}

/** Every key under `prefix:` on every node given (every master of a cluster, or one standalone server). */
export async function clusterKeys(masters: NodeSend[], prefix: string): Promise<string[][]> {
  return Promise.all(
    masters.map(async (send) => {
      const out: string[] = [];
      let cursor = "0";
      do {
        const [next, keys] = (await send(["SCAN", cursor, "MATCH", `${prefix}:*`, "COUNT", "1000"])) as [
          string,
          string[],
        ];
        cursor = next;
        out.push(...keys);
      } while (cursor !== "0");
      return out;
    }),
  );
}

/** Deletes every key under `prefix:` on every node given (one key per DEL: a node's keys span slots). */
export async function dropClusterPrefix(masters: NodeSend[], prefix: string): Promise<void> {
  const perNode = await clusterKeys(masters, prefix);
  await Promise.all(perNode.map((keys, i) => Promise.all(keys.map((k) => masters[i]!(["DEL", k])))));
}
