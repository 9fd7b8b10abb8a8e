// A server process for run-process.spec.ts, which runs it as its own process:
// runProcess ends the process it runs in. FIXTURE_CLOSE says how close() goes:
//   ok     stops the server and resolves
//   hang   never resolves, and the server stays open (a connection that never drains)
//   stall  stops the server but never resolves, leaving nothing that keeps Node running
//   fail   rejects
import { runProcess } from '@portal/config';

const behaviour = process.env.FIXTURE_CLOSE ?? 'ok';
const write = (line: string) => process.stderr.write(`${line}\n`);

await runProcess({
  name: 'fixture',
  start: () => {
    // Stands in for a listening socket: it keeps the process running until closed.
    const server = setInterval(() => undefined, 60_000);
    return Promise.resolve({
      close: (): Promise<void> => {
        if (behaviour === 'hang') return new Promise(() => undefined);
        clearInterval(server);
        if (behaviour === 'stall') return new Promise(() => undefined);
        if (behaviour === 'fail') return Promise.reject(new Error('close failed'));
        return Promise.resolve();
      },
    });
  },
  ready: () => write('fixture ready'),
  log: () => ({ info: (message) => write(message), error: (message) => write(message) }),
  shutdownBoundMs: Number(process.env.SHUTDOWN_BOUND_MS ?? 10_000),
});
