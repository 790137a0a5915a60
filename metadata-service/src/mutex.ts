/**
 * One-at-a-time execution. SQLite has a single writer: queuing write transactions here costs
 * nothing, while letting them collide means SQLITE_BUSY waits and retries. better-sqlite3 also runs
 * every transaction on one connection, so an interleaved second transaction would not be isolated.
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    // The next caller waits for this one to settle, whether it succeeded or not.
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
