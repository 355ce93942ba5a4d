// Container HEALTHCHECK: GET /health/live on the port the app in this image listens on.
// PHILOTES_APP is set by the image's per-app target; the listen address follows the app's settings.
const app = process.env.PHILOTES_APP || 'wal-reader';
const address = app === 'dlq-admin' ? (process.env.PHILOTES_ADMIN_LISTEN_ADDR || ':8080') : (process.env.PHILOTES_HEALTH_LISTEN_ADDR || ':8081');
const port = address.slice(address.lastIndexOf(':') + 1);
fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(4000) })
  .then((response) => process.exit(response.ok ? 0 : 1))
  .catch(() => process.exit(1));
