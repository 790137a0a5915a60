/**
 * Where a webhook may go: http(s) only, and never to loopback, link-local, private, shared or
 * multicast addresses (a callback URL must not reach into the deployment's own network) unless
 * WEBHOOK_ALLOW_HOSTS names the host. The name is resolved first and the request is then sent to
 * the address checked here, so a DNS answer that changes in between (rebinding) cannot get round it.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { AppError } from './errors.ts';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b::', 96]] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** True for an address no webhook may reach without being allowed by name. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  return blocked.check(address, 'ipv6');
}

export interface WebhookTarget {
  url: URL;
  /** The address to connect to (checked). */
  address: string;
  family: 4 | 6;
}

const refused = (message: string) => new AppError(400, 'callback_url_refused', message);

/** The URL's host resolved and checked, or a 400 `callback_url_refused` saying why. */
export async function resolveWebhookTarget(raw: string, allowHosts: readonly string[] = []): Promise<WebhookTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused('callback_url is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused('callback_url must be http or https');
  if (url.username || url.password) throw refused('callback_url must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const allowed = allowHosts.some((h) => h.toLowerCase() === host);
  let answers: Array<{ address: string; family: number }>;
  try {
    answers = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true });
  } catch {
    throw refused(`callback_url's host ${host} does not resolve`);
  }
  // Every answer must be allowed: a name that resolves to one public and one private address is refused.
  if (!allowed && answers.some((a) => isNonPublicAddress(a.address))) {
    throw refused(`callback_url's host ${host} is a loopback, private or link-local address (WEBHOOK_ALLOW_HOSTS can name it)`);
  }
  const first = answers[0];
  if (!first) throw refused(`callback_url's host ${host} does not resolve`);
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
