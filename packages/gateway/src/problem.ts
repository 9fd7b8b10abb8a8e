import { STATUS_CODES } from 'node:http';
import type { ServerResponse } from 'node:http';

const TYPE = 'https://portal.example/problems/';

/**
 * Answers with an RFC 9457 problem document, the same shape the services
 * answer with, so a client handles a gateway error and a service error alike.
 */
export function sendProblem(res: ServerResponse, status: number, detail: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const title = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ type: `${TYPE}${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, title, status, detail });
  res.writeHead(status, { ...headers, 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
