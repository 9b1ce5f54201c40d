const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

/**
 * Reconnect delay after `attempt` failed attempts (0-based): 1 s doubling to 30 s, each shortened by up to
 * 20 % at random so that many dashboards do not reconnect in lockstep after an API restart.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling * (1 - 0.2 * random()));
}
