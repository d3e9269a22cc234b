/**
 * Background work: periodic tasks claimed from the database so that any number of nodes can run
 * them and each run happens once (DESIGN §5, §6). `app.ts` lists the tasks; `serve` starts them.
 */
export { taskRunner, type Task, type TaskRunner } from "./task-runner.js";
