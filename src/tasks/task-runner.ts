/**
 * The task runner behind `App.start()` / `App.stop()` (DESIGN §6, background work). A task is a
 * name, a period and a function. Each run is claimed first (scheduled_tasks, see migration 0006),
 * so with any number of nodes a due run happens once; a crash mid-run loses that run only, and the
 * next period runs again. Tests call `runNow` and need no timers.
 */
import { KeyfleetError, type Clock } from "../domain/index.js";
import type { Logger } from "../logger.js";
import { taskRepository, type Database } from "../store/index.js";

export interface Task {
  readonly name: string;
  readonly everySeconds: number;
  run(): Promise<void>;
}

export function taskRunner(
  deps: { readonly database: Database; readonly clock: Clock; readonly logger: Logger },
  tasks: readonly Task[],
) {
  const rows = taskRepository(deps.database.db);
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<boolean>>();
  const inFlight = new Set<string>();

  async function attempt(task: Task, force: boolean): Promise<boolean> {
    if (inFlight.has(task.name)) return false; // a run longer than its period does not overlap itself
    inFlight.add(task.name);
    try {
      return await claimAndRun(task, force);
    } finally {
      inFlight.delete(task.name);
    }
  }

  async function claimAndRun(task: Task, force: boolean): Promise<boolean> {
    const now = deps.clock.now();
    const next = new Date(now.getTime() + task.everySeconds * 1000);
    const claimed = await deps.database.transaction((tx) => rows.claim(tx, task.name, now, next, force));
    if (!claimed) return false;
    try {
      await task.run();
      await rows.finished(task.name, deps.clock.now(), null);
    } catch (e) {
      deps.logger.error({ err: e, task: task.name }, "background task failed");
      await rows.finished(task.name, deps.clock.now(), e instanceof Error ? e.message : String(e));
      throw e;
    }
    return true;
  }

  function track(p: Promise<boolean>): Promise<boolean> {
    running.add(p);
    return p.finally(() => running.delete(p));
  }

  const byName = (name: string): Task => {
    const task = tasks.find((t) => t.name === name);
    if (!task) throw new KeyfleetError("not-found", `no background task ${name}`);
    return task;
  };

  return {
    /**
     * Runs the task now, whether or not it is due (tests, on demand), unless this process is running
     * it already. The claim orders runs across nodes but is not a lease: a forced run may overlap
     * another node's, so a task's writes must tolerate that (the checkpoint signer's do).
     */
    runNow: (name: string): Promise<boolean> => track(attempt(byName(name), true)),

    /** Starts every task's timer; each tick runs the task if it is due. Timers do not keep the process alive. */
    start(): void {
      for (const task of tasks) {
        const tick = () => {
          track(attempt(task, false)).catch(() => undefined); // logged in attempt
        };
        const timer = setInterval(tick, task.everySeconds * 1000);
        timer.unref();
        timers.push(timer);
        tick();
      }
    },

    /** Stops the timers and waits for runs in progress. */
    async stop(): Promise<void> {
      for (const timer of timers.splice(0)) clearInterval(timer);
      await Promise.allSettled([...running]);
    },
  };
}

export type TaskRunner = ReturnType<typeof taskRunner>;
