/**
 * Container healthcheck for the SFU: exits 0 when the protoo signaling port
 * accepts a TCP connection (it listens once the workers are up), 1 otherwise.
 * A script file instead of `node -e "<code>"` because podman 4.3 splits a
 * healthcheck's arguments at spaces when the check comes through its
 * Docker-compatible API; this form has no spaces and works with both engines.
 */
import { connect } from "node:net";

const port = Number(process.env.SFU_SIGNALING_PORT ?? "4001");
const socket = connect(port, "127.0.0.1");
socket.setTimeout(4_000, () => process.exit(1));
socket.on("connect", () => process.exit(0));
socket.on("error", () => process.exit(1));
