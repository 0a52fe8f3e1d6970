// The network module msal-node uses when sigops must trust an extra CA for the login endpoint
// (a private PKI, or the loopback fake in tests): plain node:https with that CA added.
import { request as httpsRequest } from 'node:https';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';

/**
 * msal network module over node:https with an extra trusted CA. Used only when a CA is given
 * (private PKI, or the loopback fake in tests); otherwise msal's own fetch client is used.
 */
export class HttpsNetworkClient implements INetworkModule {
  constructor(private readonly ca: string) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return new Promise((resolve, reject) => {
      const body = method === 'POST' ? (options?.body ?? '') : undefined;
      const req = httpsRequest(
        url,
        {
          method,
          ca: this.ca,
          headers: {
            ...(options?.headers ?? {}),
            ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
            try {
              resolve({ status: res.statusCode ?? 0, headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T });
            } catch (err) {
              reject(new Error(`unparseable answer from ${url}: ${(err as Error).message}`));
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
