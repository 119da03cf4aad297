// A service that tells the time, for the clock fault's tests: `GET /now` answers with its own
// `Date.now()` (ms, as text), `GET /health` with `ok`. Configured by HOST and PORT.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  if (req.url === '/now') {
    res.end(String(Date.now()));
    return;
  }
  if (req.url === '/health') {
    res.end('ok');
    return;
  }
  res.statusCode = 404;
  res.end();
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1', () => {
  process.stdout.write(`clock server listening on ${process.env.HOST ?? '127.0.0.1'}:${process.env.PORT}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
