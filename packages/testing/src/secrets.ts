/** The INTERNAL_TOKEN of services that tests start in-process (a test value, not a secret). */
export const TEST_INTERNAL_TOKEN = 'test-internal-token-not-a-secret-0123456789';
