/**
 * The web page's sign-in: it sends a token once (POST /api/session) and gets it back as an HttpOnly,
 * SameSite=Strict cookie (Secure when the page came over HTTPS), so the page's script never holds the
 * token and EventSource, which cannot send headers, is signed in too. The cookie is the token itself:
 * a revoke bites as for a bearer token, and no session store is needed. DELETE signs out.
 */
import { validate } from '@drive-import/common';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import type { Auth, GatewayEnv } from './auth.ts';

export const SESSION_COOKIE = 'drive_import_session';
/** A browser session: a week, renewed at each sign-in. */
const MAX_AGE_S = 7 * 24 * 3600;

export const SessionRequest = z.strictObject({ token: z.string().trim().min(1).max(512) });
/** GET /api/session: who is signed in and what the import form offers. */
export const SessionResponse = z.object({
  name: z.string(),
  admin: z.boolean(),
  destinations: z.array(z.enum(['s3', 'azure', 'local'])).optional(),
  default_destination: z.enum(['s3', 'azure', 'local']).optional(),
  demo_folder_url: z.string().nullable().optional(),
});

/** HTTPS as the browser saw it (directly or through a proxy that says so). */
const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';

export const sessionToken = (c: Context): string | null => getCookie(c, SESSION_COOKIE) ?? null;

/** POST and DELETE /api/session (public: they are how one signs in and out); GET needs a caller. */
export function mountSessionRoutes(app: Hono<GatewayEnv>, auth: Auth) {
  app.post('/api/session', validate('json', SessionRequest), async (c) => {
    const { token } = c.req.valid('json');
    const caller = await auth.verify(c, token);
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', secure: isHttps(c), path: '/', maxAge: MAX_AGE_S });
    return c.json({ name: caller.name, admin: caller.admin });
  });
  app.delete('/api/session', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c) });
    return c.body(null, 204);
  });
}
