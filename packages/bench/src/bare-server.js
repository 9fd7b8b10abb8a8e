// The baseline: Node's own HTTP server answering one fixed JSON body, the
// fastest a Node service on this machine can answer. BODY comes from the
// benchmark, so both servers send the same bytes.
import http from 'node:http';

const body = Buffer.from(process.env.BODY ?? '{}');
const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  response.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stderr.write(`bare ready on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
