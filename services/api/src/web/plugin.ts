/**
 * Serves the built web app: hashed files under /assets/ are cached for a year,
 * everything else (index.html first) is revalidated on each load, and any page
 * route (`/`, `/r/:roomId`, …) answers index.html so the client router takes
 * over. /api/* and /sfu/* never fall back to the page.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { pathOf } from "../http-errors.ts";

export interface WebPluginOptions {
	/** Absolute path of the built web app (the directory holding index.html). */
	webDist: string;
}

export const notBuiltMessage = "The web app is not built: run `npm run build`";

const immutable = "public, max-age=31536000, immutable";
const revalidate = "no-cache";
/** Paths we are willing to look up on disk: plain segments, no dot-files, no `..`. */
const safePath = /^(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/;

async function isFile(path: string): Promise<boolean> {
	try {
		return (await stat(path)).isFile();
	} catch {
		return false;
	}
}

function isBackendPath(path: string): boolean {
	return /^\/(?:api|sfu)(?:\/|$)/.test(path);
}

export const webPlugin: FastifyPluginAsync<WebPluginOptions> = async (app, { webDist }) => {
	await app.register(fastifyStatic, { root: webDist, serve: false });

	const sendIndex = async (reply: FastifyReply) => {
		if (!(await isFile(join(webDist, "index.html")))) {
			return reply
				.code(503)
				.type("text/plain; charset=utf-8")
				.header("cache-control", revalidate)
				.send(notBuiltMessage);
		}
		return reply.header("cache-control", revalidate).sendFile("index.html", webDist, { cacheControl: false });
	};

	const serve = async (request: FastifyRequest, reply: FastifyReply) => {
		const path = pathOf(request.url);
		if (isBackendPath(path)) return reply.callNotFound();
		if (path === "/" || path === "/index.html") return sendIndex(reply);
		if (safePath.test(path) && (await isFile(join(webDist, path)))) {
			const cacheControl = path.startsWith("/assets/") ? immutable : revalidate;
			return reply.header("cache-control", cacheControl).sendFile(path.slice(1), webDist, { cacheControl: false });
		}
		// A missing hashed file is a real 404: answering it with the page would hand HTML to a <script>.
		if (path.startsWith("/assets/")) return reply.callNotFound();
		return sendIndex(reply);
	};

	app.get("/", serve);
	app.get("/*", serve);
};
