/**
 * The intent-level steps of the store port, run on the store's own step when it has one, or composed from the
 * fine-grained methods (the port's reference semantics, `ports/_composed-steps.ts`).
 *
 * @module
 */
import {
  composeAppVerifyBegin,
  composeAppVerifyFinish,
  composeIssueStep,
  composeVerifyStep,
} from "../ports/_composed-steps.js";
import type { TokenStore } from "../ports/store.js";
import type {
  AppVerifyBeginInput,
  AppVerifyBeginResult,
  AppVerifyFinishInput,
  AppVerifyFinishResult,
  IssueStepInput,
  IssueStepResult,
  TokenStoreSteps,
  VerifyStepInput,
  VerifyStepResult,
} from "../ports/store-steps.js";

/** A store, with whichever steps it has. */
export type SteppingStore = TokenStore & TokenStoreSteps;

/** {@link TokenStoreSteps.issueStep}, on the store's step or composed. */
export function runIssueStep(store: SteppingStore, input: IssueStepInput): Promise<IssueStepResult> {
  return typeof store.issueStep === "function" ? store.issueStep(input) : composeIssueStep(store, input);
}

/** {@link TokenStoreSteps.verifyStep}, on the store's step or composed. */
export function runVerifyStep(store: SteppingStore, input: VerifyStepInput): Promise<VerifyStepResult> {
  return typeof store.verifyStep === "function" ? store.verifyStep(input) : composeVerifyStep(store, input);
}

/** {@link TokenStoreSteps.appVerifyBegin}, on the store's step or composed. */
export function runAppVerifyBegin(
  store: SteppingStore,
  input: AppVerifyBeginInput,
): Promise<AppVerifyBeginResult> {
  return typeof store.appVerifyBegin === "function"
    ? store.appVerifyBegin(input)
    : composeAppVerifyBegin(store, input);
}

/** {@link TokenStoreSteps.appVerifyFinish}, on the store's step or composed. */
export function runAppVerifyFinish(
  store: SteppingStore,
  input: AppVerifyFinishInput,
): Promise<AppVerifyFinishResult> {
  return typeof store.appVerifyFinish === "function"
    ? store.appVerifyFinish(input)
    : composeAppVerifyFinish(store, input);
}
