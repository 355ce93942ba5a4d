/** Stops the run's server; each project (integration, deployment) names this teardown, the first stops it. */
export default async function globalTeardown(): Promise<void> {
  const server = globalThis.__philotesEmbeddedPostgres;
  globalThis.__philotesEmbeddedPostgres = undefined;
  await server?.stop();
}
