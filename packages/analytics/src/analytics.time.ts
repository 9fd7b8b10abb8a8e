const HOUR_MS = 3_600_000;

/**
 * The start of the UTC hour `time` falls in. Computed here rather than with
 * date_trunc, whose result on timestamptz depends on the session's time zone
 * (zones like +05:30 would shift the buckets).
 */
export function hourBucket(time: Date): Date {
  return new Date(Math.floor(time.getTime() / HOUR_MS) * HOUR_MS);
}

/** The UTC calendar day of `time`, as a date column takes it. */
export function utcDay(time: Date): string {
  return time.toISOString().slice(0, 10);
}

/** The first hour bucket of a window of `hours` hours: the current hour and the `hours - 1` before it. */
export function windowStart(now: Date, hours: number): Date {
  return new Date(hourBucket(now).getTime() - (hours - 1) * HOUR_MS);
}
