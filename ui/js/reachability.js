// Whether the daemon answers. A failed request (or the live stream
// dropping) marks it unreachable; from then on a probe asks /system/status
// every few seconds, backing off, until it answers again. Pages learn of it
// through onReachability: the shell hides what it showed (it may be stale)
// and disables every action until the daemon is back.

const PROBE = '/api/v1/system/status';
let reachable = true;
let probing = null;
let delay = 1000;
const listeners = new Set();

function set(value) {
  if (reachable === value) return;
  reachable = value;
  for (const fn of listeners) fn(value);
}

/** A request got an HTTP answer: the daemon is there. */
export function markReachable() {
  delay = 1000;
  set(true);
}

/** A request failed to reach the daemon: start probing. */
export function markUnreachable() {
  set(false);
  if (!probing) probing = setTimeout(probe, delay);
}

/** Ask now whether the daemon answers (after the live stream dropped). */
export async function check() {
  try {
    const r = await fetch(PROBE, { cache: 'no-store' });
    if (r.status) markReachable();
    return true;
  } catch {
    markUnreachable();
    return false;
  }
}

async function probe() {
  probing = null;
  if (await check()) return;
  delay = Math.min(delay * 2, 10_000);
  if (!probing) probing = setTimeout(probe, delay);
}

export function isReachable() {
  return reachable;
}

/** fn(reachable) on each change; returns the function that unsubscribes. */
export function onReachability(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
