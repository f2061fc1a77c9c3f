import { connect, createServer, type Server, type Socket } from 'node:net';

export type TcpProxy = {
  /** `http://127.0.0.1:<port>`: give this to clients instead of the target. */
  url: string;
  port: number;
  /** Refuses new connections and drops the open ones: the target is unreachable. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
};

/**
 * A TCP proxy in front of a service, to make it unreachable and bring it back without touching
 * the service itself (the testkit's s3rver cannot be restarted on the same port and data dir).
 * While cut, connecting fails with ECONNREFUSED and every open connection is reset, as when a
 * network path or the server goes away.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const listen = (onPort: number) =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(target.port, target.host);
        track(client);
        track(upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(onPort, '127.0.0.1', () => {
        s.off('error', reject);
        server = s;
        const address = s.address();
        port = typeof address === 'object' && address ? address.port : onPort;
        resolve();
      });
    });

  const stopListening = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.resetAndDestroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen(0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    cut: stopListening,
    async restore() {
      if (!server) await listen(port);
    },
    close: stopListening,
  };
}
