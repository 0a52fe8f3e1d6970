// Source-address allow-list for the listener (CIDRs, IPv4 and IPv6).
import { BlockList, isIP } from 'node:net';

/**
 * Exchange Online Protection's published outbound ranges (Microsoft 365 URLs and IP address
 * ranges, "Exchange Online" SMTP rows). Recommended in production: `--allow exchange-online`.
 * Microsoft changes these rarely; check https://aka.ms/o365ip when deploying.
 */
export const EXCHANGE_ONLINE_RANGES: readonly string[] = [
  '40.92.0.0/15',
  '40.107.0.0/16',
  '52.100.0.0/14',
  '104.47.0.0/17',
  '2a01:111:f400::/48',
  '2a01:111:f403::/48',
];

export class AllowList {
  readonly entries: readonly string[];
  private readonly list = new BlockList();

  /** `specs`: CIDRs or single addresses; the word `exchange-online` expands to the ranges above. */
  constructor(specs: readonly string[]) {
    const entries: string[] = [];
    for (const raw of specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
      if (raw === 'exchange-online') {
        for (const r of EXCHANGE_ONLINE_RANGES) this.add(r);
        entries.push(...EXCHANGE_ONLINE_RANGES);
        continue;
      }
      this.add(raw);
      entries.push(raw);
    }
    this.entries = entries;
  }

  private add(cidr: string): void {
    const [addr = '', bits] = cidr.split('/');
    const family = isIP(addr);
    if (family === 0) throw new Error(`allow-list: "${cidr}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      this.list.addAddress(addr, type);
      return;
    }
    const prefix = Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
      throw new Error(`allow-list: "${cidr}" has an invalid prefix length`);
    }
    this.list.addSubnet(addr, prefix, type);
  }

  allows(address: string): boolean {
    // IPv4-mapped IPv6 (::ffff:1.2.3.4) as smtp-server reports on dual-stack sockets
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const addr = v4 ?? address;
    const family = isIP(addr);
    if (family === 0) return false;
    return this.list.check(addr, family === 4 ? 'ipv4' : 'ipv6');
  }
}
