// A local npm registry for the e2e tests: verdaccio (the devDependency), on 127.0.0.1 and a
// port the system picks, with the config given as argv[2] (no uplinks: it never reaches
// the internet). Prints "PORT <n>" once listening, then "REQ <ms> <method> <url>" for every
// request, so that a test can tell which tarballs npm fetched, and when.
'use strict';
const { runServer } = require('verdaccio');

(async () => {
  const server = await runServer(process.argv[2]);
  server.on('request', (req) => process.stdout.write(`REQ ${Date.now()} ${req.method} ${req.url}\n`));
  server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    // npm keeps connections alive; do not wait for them.
    setTimeout(() => process.exit(0), 1000).unref();
  });
})().catch((err) => {
  process.stderr.write(`registry-server: ${err && err.stack ? err.stack : String(err)}\n`);
  process.exit(1);
});
