// The image's HEALTHCHECK (and Compose's): GET /health/live, or /health/ready
// with the argument `ready`, on the app's own port. Plain Node, because slim
// images have no curl or wget. Exit 0 healthy, 1 not.
const PORTS = { gateway: 8080, news: 3001, blog: 3002, webtoon: 3003, payment: 3004, auth: 3005, analytics: 3006, monolith: 3000 };
const probe = process.argv[2] === 'ready' ? 'ready' : 'live';
const port = process.env.PORT || PORTS[process.env.APP];
try {
  if (!port) throw new Error(`APP=${process.env.APP} is not an app and PORT is unset`);
  const response = await fetch(`http://127.0.0.1:${port}/health/${probe}`, { signal: AbortSignal.timeout(4_000) });
  if (!response.ok) throw new Error(`/health/${probe} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
} catch (error) {
  console.error(`unhealthy: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
