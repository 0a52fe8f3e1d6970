// A TCP front that plays network faults between a client and a server on loopback: it forwards
// connections to a backend port and, on command, goes down (connections refused, open ones
// reset), black-holes (accepts, never answers; open connections stop carrying bytes) or slows
// to 1 byte per second and direction. Used in front of the faulty next hop and of the config
// repository's git remote.
import { once } from 'node:events';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

/** What the network does. */
export type NetworkFault =
  | 'none'
  | 'down' // nothing listens: connections are refused, open ones are reset
  // connections are accepted and never answered, and stay silent after it (half-open, as when
  // state on the path is lost); open ones stop carrying bytes until it is over
  | 'black-hole'
  | 'slow'; // every byte in both directions waits a second (1 byte/s per connection)

export interface FaultyNetwork {
  /** The port clients connect to. */
  readonly port: number;
  readonly fault: NetworkFault;
  /** Switches the fault; open connections follow it at once. */
  set(fault: NetworkFault): Promise<void>;
  close(): Promise<void>;
}

interface Link {
  readonly client: Socket;
  readonly server: Socket;
  mode: 'pipe' | 'hold' | 'slow';
  timer?: NodeJS.Timeout;
  readonly queue: { toServer: Buffer[]; toClient: Buffer[] };
}

/** `backend` is asked for each new connection (a next hop may switch servers). */
export async function startFaultyNetwork(options: { backend: () => number; port?: number }): Promise<FaultyNetwork> {
  const links = new Set<Link>();
  const held = new Set<Socket>();
  let fault: NetworkFault = 'none';

  const pump = (link: Link): void => {
    // in slow mode one byte per second and direction crosses; the rest waits in the queue
    if (link.mode !== 'slow' || link.timer) return;
    link.timer = setInterval(() => {
      for (const [queue, to] of [[link.queue.toServer, link.server], [link.queue.toClient, link.client]] as const) {
        const first = queue[0];
        if (!first || to.destroyed) continue;
        to.write(first.subarray(0, 1));
        if (first.length > 1) queue[0] = first.subarray(1);
        else queue.shift();
      }
    }, 1000);
  };

  const setMode = (link: Link, mode: Link['mode']): void => {
    link.mode = mode;
    if (mode !== 'slow' && link.timer) {
      clearInterval(link.timer);
      link.timer = undefined;
    }
    if (mode === 'pipe') {
      // what waited while slow or held goes on, in order (TCP would have retransmitted it)
      for (const b of link.queue.toServer.splice(0)) link.server.write(b);
      for (const b of link.queue.toClient.splice(0)) link.client.write(b);
    }
    if (mode === 'slow') pump(link);
  };

  const modeFor = (f: NetworkFault): Link['mode'] => (f === 'black-hole' ? 'hold' : f === 'slow' ? 'slow' : 'pipe');

  const destroyLink = (link: Link, reset: boolean): void => {
    if (link.timer) clearInterval(link.timer);
    links.delete(link);
    for (const s of [link.client, link.server]) {
      if (reset && !s.destroyed) s.resetAndDestroy();
      else s.destroy();
    }
  };

  const onConnection = (client: Socket): void => {
    client.on('error', () => undefined);
    if (fault === 'black-hole') {
      // accepted and never answered: the client's own timeout has to notice
      held.add(client);
      client.on('close', () => held.delete(client));
      client.resume(); // swallow whatever it says
      return;
    }
    const server = netConnect(options.backend(), '127.0.0.1');
    server.on('error', () => undefined);
    const link: Link = { client, server, mode: modeFor(fault), queue: { toServer: [], toClient: [] } };
    links.add(link);
    const forward = (to: Socket, queue: Buffer[]) => (chunk: Buffer) => {
      if (link.mode === 'pipe') to.write(chunk);
      else queue.push(chunk);
    };
    client.on('data', forward(server, link.queue.toServer));
    server.on('data', forward(client, link.queue.toClient));
    // a close on one side is the same close on the other: a reset stays a reset, a FIN a FIN
    client.on('close', (hadError) => destroyLink(link, hadError));
    server.on('close', (hadError) => destroyLink(link, hadError));
    if (link.mode === 'slow') pump(link);
  };

  let front: Server | undefined;
  let port = options.port ?? 0;
  const listen = async (): Promise<void> => {
    front = createServer(onConnection);
    front.listen(port, '127.0.0.1');
    await once(front, 'listening');
    port = (front.address() as { port: number }).port;
  };
  const unlisten = async (): Promise<void> => {
    const f = front;
    front = undefined;
    if (f) await new Promise<void>((r) => f.close(() => r()));
  };
  await listen();

  return {
    get port() {
      return port;
    },
    get fault() {
      return fault;
    },
    async set(next: NetworkFault) {
      const before = fault;
      fault = next;
      if (next === 'down') {
        const closing = unlisten();
        for (const link of [...links]) destroyLink(link, true);
        for (const s of held) s.destroy();
        await closing;
        return;
      }
      if (before === 'down') await listen();
      for (const link of links) setMode(link, modeFor(next));
    },
    async close() {
      // the listener's close waits for its connections: end them while it closes
      const closing = unlisten();
      for (const link of [...links]) destroyLink(link, false);
      for (const s of held) s.destroy();
      await closing;
    },
  };
}
