/** Gateway test helpers: tokens (ADMIN_TOKEN and two stored ones) and requests that carry one. */
import { createHash } from 'node:crypto';
import { createLogger, ServiceClient } from '@drive-import/common';
import { freePort } from '@drive-import/testing';
import { type AuthOptions, type Caller, createGatewayApp } from '../src/index.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** Stored tokens as the metadata-service would answer for them. */
export const TOKENS: Record<string, Caller> = {
  'dit_alice-token-0123456789abcdef': { name: 'alice', admin: false },
  'dit_bob-token-0123456789abcdef00': { name: 'bob', admin: false },
  'dit_ops-token-0123456789abcdef00': { name: 'ops', admin: true },
};
export const ALICE = 'dit_alice-token-0123456789abcdef';
export const BOB = 'dit_bob-token-0123456789abcdef00';
export const OPS = 'dit_ops-token-0123456789abcdef00';

const byHash = new Map(Object.entries(TOKENS).map(([token, caller]) => [createHash('sha256').update(token).digest('hex'), caller]));

/** Lookups answered from TOKENS, counted. */
export function testAuth(extra: Partial<AuthOptions> = {}): AuthOptions & { lookups: () => number } {
  let lookups = 0;
  return {
    adminToken: ADMIN_TOKEN,
    lookup: async (hash) => {
      lookups++;
      return byHash.get(hash) ?? null;
    },
    lookups: () => lookups,
    ...extra,
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

type App = ReturnType<typeof createGatewayApp>;

/** `app.request` with `Authorization: Bearer <token>` added (the caller's own headers win). */
export function as(app: App, token: string) {
  return {
    request: (path: string, init: RequestInit = {}) =>
      app.request(path, { ...init, headers: { ...bearer(token), ...(init.headers as Record<string, string> | undefined) } }),
  };
}

/** A gateway whose upstream services are a closed port: anything that got past the edge is a 503. */
export async function closedGateway(extra: Partial<Parameters<typeof createGatewayApp>[0]> = {}) {
  const closed = `http://127.0.0.1:${await freePort()}`;
  return createGatewayApp({
    log: createLogger('gateway-test', 'silent'),
    importService: new ServiceClient('import-service', closed),
    metadataService: new ServiceClient('metadata-service', closed),
    storageService: new ServiceClient('storage-service', closed),
    auth: testAuth(),
    ...extra,
  });
}
