import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../src/adapters/memory.js";
import { runStoreConformance } from "../../src/testing/store-conformance.js";

const RETENTION_MS = 7 * 86_400_000;

// No `interrupt` hook: the memory store's steps are one synchronous section each, with no connection that could
// be cut in the middle of one; the kit declares its interrupted-step cases skipped, with that reason.
runStoreConformance({
  name: "MemoryTokenStore",
  createStore: () => new MemoryTokenStore({ eventRetentionMs: RETENTION_MS }),
  capabilities: { sharedAcrossInstances: false, eventRetentionMs: RETENTION_MS },
  test: { describe, it, expect },
});
