/**
 * Node's timers hold a delay of at most 2^31-1 ms (about 24.8 days): a longer one fires after
 * 1 ms, with a warning. Go's timers have no such bound, so durations from options, configs and
 * JetStream settings (a 30-day `max_age`, an hour-long ack wait in nanoseconds gone wrong, a
 * `720h` auth timeout) must be clamped before they reach `setTimeout`/`setInterval`. A clamped
 * timer fires early; the code that arms one either checks what is due when it fires and arms
 * again, or (timeouts that act when they fire) acts after 24.8 days instead of later.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` as a delay Node's timers keep: within [0, MAX_TIMER_MS]; NaN becomes MAX_TIMER_MS. */
export function timerDelay(ms: number): number {
  if (!(ms >= 0)) return Number.isNaN(ms) ? MAX_TIMER_MS : 0;
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms;
}
