/** The benchmark's stacks use one token as both ADMIN_TOKEN and INTERNAL_TOKEN (a bench value, not a secret). */
export const BENCH_TOKEN = 'bench-token-not-a-secret-0123456789abcdef';
export const BENCH_HEADERS = { authorization: `Bearer ${BENCH_TOKEN}` };
