// The Received trace header the relay prepends (RFC 5321 §4.4): who handed the message to us,
// who we are, how (TLS), an id and the time. No content, no recipient.

export interface ReceivedInfo {
  readonly helo: string;
  readonly remoteAddress: string;
  readonly hostname: string;
  readonly tls?: { readonly protocol?: string; readonly cipher?: string };
  readonly id: string;
  readonly date: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date-time in UTC. */
export function rfc5322Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

const clean = (s: string) => s.replace(/[^\x21-\x7e]/g, '').replace(/[()\\;]/g, '').slice(0, 253) || 'unknown';

export function receivedHeader(info: ReceivedInfo): string {
  const addr = info.remoteAddress.replace(/^::ffff:/i, '');
  const literal = addr.includes(':') ? `IPv6:${addr}` : addr;
  const tls = info.tls?.protocol ? ` (${clean(info.tls.protocol)}${info.tls.cipher ? ` ${clean(info.tls.cipher)}` : ''})` : '';
  const proto = info.tls?.protocol ? 'ESMTPS' : 'ESMTP';
  return (
    `Received: from ${clean(info.helo)} ([${literal}])\r\n` +
    `\tby ${clean(info.hostname)} (sigops) with ${proto}${tls} id ${clean(info.id)};\r\n` +
    `\t${rfc5322Date(info.date)}\r\n`
  );
}
