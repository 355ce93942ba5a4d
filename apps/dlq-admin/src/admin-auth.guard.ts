import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { HttpRequest, HttpResponse } from './http-types';
import { ConfigStore } from '@philotes/config';
import { CONFIG_STORE } from '@philotes/runtime';
import { bearerMatches } from './admin-auth';

/** Every API route needs the bearer token (health, metrics and /docs are served by other controllers). */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(@Inject(CONFIG_STORE) private readonly config: ConfigStore) {}

  canActivate(context: ExecutionContext): boolean {
    const { adminToken, adminAuthDisabled } = this.config.settings;
    if (adminAuthDisabled) return true;
    const http = context.switchToHttp();
    const header = http.getRequest<HttpRequest>().headers.authorization;
    if (adminToken && typeof header === 'string' && bearerMatches(header, adminToken)) return true;
    http.getResponse<HttpResponse>().setHeader('WWW-Authenticate', 'Bearer realm="philotes-admin"');
    throw new UnauthorizedException('a valid bearer token is required (Authorization: Bearer <PHILOTES_ADMIN_TOKEN>)');
  }
}
