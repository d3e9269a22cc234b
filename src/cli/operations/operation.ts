/**
 * An operation is what a CLI command does once its options are checked: a function of the open app
 * and a JSON input, returning JSON. The CLI runs it on an app it opens itself or, on the embedded
 * default beside a running server, sends it to that server, which runs the same function on its own
 * app. So both ways give the same output, the same errors and the same exit code.
 */
import type { App, AppOptions } from "../../app.js";

export interface OperationContext {
  /** Who asks, as the process running the operation knows it (never what a client claims). */
  readonly actor: string;
  /** Set when the operation runs inside `keyfleet serve`: where that server listens. */
  readonly server?: { readonly adminUrl: string; readonly publicHttpUrl: string };
}

export interface Operation<I, O> {
  /** How the CLI opens the app when it runs the operation itself. */
  readonly open?: AppOptions;
  run(app: App, input: I, context: OperationContext): Promise<O>;
}

/** Types an operation in place (its input and output are inferred from `run`). */
export function operation<I, O>(op: Operation<I, O>): Operation<I, O> {
  return op;
}
