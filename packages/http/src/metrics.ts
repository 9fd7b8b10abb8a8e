import type { BoundCounter, BoundHistogram, PortalMetrics } from '@portal/observability';

export const METRICS_PATH = '/metrics';
/** The route label of a request no route matched: one series, whatever the path was. */
const UNMATCHED = 'unmatched';

interface Series {
  readonly count: BoundCounter;
  readonly duration: BoundHistogram;
}

/**
 * Counts a request under its route template (never its path, which holds
 * ids). The label series are resolved once per route, method and status and
 * kept, so a request costs three map lookups and two additions.
 */
export function httpMetrics(metrics: PortalMetrics): (method: string, route: string | undefined, status: number, elapsedMs: number) => void {
  const requests = metrics.counter('portal_http_requests_total');
  const durations = metrics.histogram('portal_http_request_duration_seconds');
  const byRoute = new Map<string, Map<string, Map<number, Series>>>();
  return (method, route = UNMATCHED, status, elapsedMs) => {
    if (route === METRICS_PATH) return;
    let byMethod = byRoute.get(route);
    if (!byMethod) byRoute.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      const labels = { method, route, status };
      series = { count: requests.labels(labels), duration: durations.labels(labels) };
      byStatus.set(status, series);
    }
    series.count.inc();
    series.duration.observe(elapsedMs / 1000);
  };
}
