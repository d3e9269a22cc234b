/** The KeyfleetError a piece of work is refused with; fails the test if it is not refused, or with another error. */
import { isKeyfleetError, type KeyfleetError } from "../../src/domain/index.js";

export async function refusal(work: Promise<unknown>): Promise<KeyfleetError> {
  try {
    await work;
  } catch (e) {
    if (isKeyfleetError(e)) return e;
    throw e;
  }
  throw new Error("it was not refused");
}
