/**
 * The little of Express's request and response the admin API touches, so it needs no @types/express:
 * Nest's Express adapter hands these objects to guards and filters.
 */
export interface HttpRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface HttpResponse {
  readonly headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  status(code: number): HttpResponse;
  json(body: unknown): unknown;
}
