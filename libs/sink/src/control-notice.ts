/**
 * The tables a control notice (NOTIFY on CONTROL_CHANNEL, `{"s":"<source>","t":[<table id>, ...]}`)
 * names: dlq-admin lists the tables whose dead letters it queued for replay. Anything else names none.
 */
export function controlTables(payload: string | undefined): number[] {
  if (!payload) return [];
  try {
    const parsed = JSON.parse(payload) as { t?: unknown };
    return Array.isArray(parsed.t) ? parsed.t.filter((id): id is number => Number.isSafeInteger(id)) : [];
  } catch {
    return [];
  }
}
