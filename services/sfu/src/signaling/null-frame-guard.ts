/**
 * protoo-server parses every text frame with JSON.parse and then checks that
 * the result is an object; `typeof null` is "object", so a frame holding just
 * `null` gets through that check and the next line (`object.request`) throws
 * inside the WebSocket's message handler: an uncaught exception that takes
 * the whole SFU process, and every call on it, down. Found by the fuzzer.
 *
 * Until protoo-server checks for it, its parser is wrapped here so that such
 * a frame is ignored like any other malformed one. Imported once, for its
 * effect, by the signaling server.
 */
import { createRequire } from "node:module";

interface ProtooMessageClass {
	parse(raw: string): unknown;
}

const require = createRequire(import.meta.url);
const Message = require("protoo-server/lib/Message.js") as ProtooMessageClass;
const parse = Message.parse.bind(Message);
const justNull = /^\s*null\s*$/;

Message.parse = (raw: string) => (typeof raw === "string" && justNull.test(raw) ? undefined : parse(raw));
