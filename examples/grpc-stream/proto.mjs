// Loads tool-calls.proto for the server and the clients.
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const PROTO = new URL('./tool-calls.proto', import.meta.url);

/** The ToolCalls service: `.service` for a server, and the client constructor itself. */
export function loadToolCalls() {
  // Fields become camelCase (`requestId`); a oneof's case is named in `outcome`.
  const definition = protoLoader.loadSync(PROTO.pathname, { oneofs: true, defaults: true });
  return grpc.loadPackageDefinition(definition).viscose.example.ToolCalls;
}
