// Local Firestore emulator for the media pipeline's stack (started by emulators/firestore.py).
//
// Usage: node server.mjs PORT
// Serves the Firestore v1 gRPC API of npm @firestore-emulator/server (in memory) on 127.0.0.1:PORT,
// prints "FIRESTORE_READY 127.0.0.1:PORT" once bound, and exits on SIGINT/SIGTERM.
import { FirestoreServer } from "@firestore-emulator/server";
import { ServerCredentials } from "@grpc/grpc-js";

const port = Number.parseInt(process.argv[2] ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("usage: node server.mjs PORT");
  process.exit(2);
}

const firestore = new FirestoreServer();
const grpcServer = firestore.server;
if (grpcServer && typeof grpcServer.bindAsync === "function") {
  // FirestoreServer.start(port) binds 0.0.0.0; bind the same gRPC server to loopback only.
  await new Promise((resolve, reject) => {
    grpcServer.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(undefined),
    );
  });
} else {
  await firestore.start(port);
}
console.log(`FIRESTORE_READY 127.0.0.1:${port}`);

const shutdown = (signal) => {
  console.log(`firestore emulator: ${signal}, shutting down`);
  firestore.stop();
  process.exit(0);
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
