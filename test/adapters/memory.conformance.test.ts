import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../src/adapters/memory.js";
import { runStoreConformance } from "../../src/testing/store-conformance.js";

const RETENTION_MS = 7 * 86_400_000;

runStoreConformance({
  name: "MemoryTokenStore",
  createStore: () => new MemoryTokenStore({ eventRetentionMs: RETENTION_MS }),
  capabilities: { sharedAcrossInstances: false, eventRetentionMs: RETENTION_MS },
  test: { describe, it, expect },
});
