/**
 * The newer rrsync takes a lock on the account's root and refuses a second
 * concurrent push. Pulumi runs resources in parallel inside one provider
 * process, so commands to one account (host:port:user) run one at a time here;
 * other processes (other stacks) are handled by retrying on the lock refusal.
 */
const tails = new Map<string, Promise<void>>();

export function accountKey(host: string, port: number, user: string): string {
  return `${user}@${host}:${port}`;
}

export async function withAccountLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = before.then(() => mine);
  tails.set(key, tail);
  await before;
  try {
    return await fn();
  } finally {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  }
}
