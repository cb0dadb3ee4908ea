import { describe, expect, it } from "vitest";
import { checkKeyValueStore } from "../../examples/custom-store.js";

// The example's wiring, run by vitest: the same 31 cases the example's own runner prints.
checkKeyValueStore({ describe, it, expect });
