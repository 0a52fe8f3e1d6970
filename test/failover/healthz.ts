// A relay's /healthz on loopback for the failover tests: the JSON the relay serves (a loaded
// config), and it can go away (connection refused) and come back on the same port.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';

/** A relay's /healthz on loopback that can go away (connection refused) and come back on the same port. */
export interface Healthz {
  readonly url: string;
  down(): Promise<void>;
  up(): Promise<void>;
}

export async function startHealthz(): Promise<Healthz> {
  let server: Server | undefined;
  let port = 0;
  const up = async (): Promise<void> => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', ready: true, config: { generation: 1, tenants: 2 } }));
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  };
  await up();
  return {
    url: `http://127.0.0.1:${port}/healthz`,
    up,
    async down() {
      const s = server!;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}
