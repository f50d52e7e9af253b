/**
 * The HTTP fuzzer: every route of the API's own OpenAPI document, called
 * with mutated path parameters, queries, headers (forged and garbage
 * tokens) and bodies (wrong types, missing and extra fields, huge, deeply
 * nested, not JSON, wrong content type). Any 5xx is a failure. Requests go
 * in batches; "hostile" batches carry no real credential, and when every
 * request of one was refused (4xx), Redis must be exactly as before it.
 */
import { createClient } from "redis";
import { deepJson, hostileValue, mutateObject, Random } from "./random.ts";

export interface HttpFuzzOptions {
	baseUrl: string;
	redisUrl: string;
	adminToken: string;
	seed: number;
	requests: number;
	/** Requests per batch (one Redis comparison per all-refused hostile batch). */
	batchSize: number;
	log: (line: string) => void;
}

export interface HttpFuzzReport {
	sent: number;
	routes: number;
	/** Responses by status class and code, e.g. "404". */
	statuses: Record<string, number>;
	/** Hostile batches that were all refused and whose Redis snapshots were compared. */
	refusedBatchesCompared: number;
	failures: string[];
}

interface JsonSchema {
	type?: string | string[];
	properties?: Record<string, JsonSchema>;
	required?: string[];
	items?: JsonSchema;
	enum?: unknown[];
	const?: unknown;
	anyOf?: JsonSchema[];
	oneOf?: JsonSchema[];
	minLength?: number;
	minimum?: number;
	format?: string;
}

interface Operation {
	method: string;
	path: string;
	parameters: { in: string; name: string; required?: boolean; schema?: JsonSchema }[];
	body: JsonSchema | undefined;
}

interface OpenApiDocument {
	paths: Record<
		string,
		Record<
			string,
			{
				parameters?: Operation["parameters"];
				requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
			}
		>
	>;
}

/** A value that satisfies `schema` as far as a simple reading goes: the starting point of mutations. */
function sample(schema: JsonSchema | undefined, random: Random, known: Record<string, string>, name = ""): unknown {
	if (!schema) return {};
	if (schema.const !== undefined) return schema.const;
	if (schema.enum) return random.pick(schema.enum);
	const variants = schema.anyOf ?? schema.oneOf;
	if (variants && variants.length > 0) return sample(random.pick(variants), random, known, name);
	const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
	switch (type) {
		case "object": {
			const out: Record<string, unknown> = {};
			for (const [key, child] of Object.entries(schema.properties ?? {})) {
				if (schema.required?.includes(key) || random.chance(0.5)) out[key] = sample(child, random, known, key);
			}
			return out;
		}
		case "array":
			return [sample(schema.items, random, known, name)];
		case "integer":
		case "number":
			return schema.minimum ?? 1;
		case "boolean":
			return true;
		case "string":
			return known[name] ?? (name.toLowerCase().includes("name") ? "Fuzzy" : random.string(schema.minLength ?? 8));
		default:
			return {};
	}
}

type Redis = Pick<
	ReturnType<typeof createClient>,
	"keys" | "type" | "get" | "hGetAll" | "sMembers" | "zRangeWithScores" | "lRange" | "xRange" | "pTTL"
>;

/** Every key of the service (values and types), except those that change by themselves. */
async function snapshot(client: Redis): Promise<Map<string, string>> {
	const keys = (await client.keys("mm:*")).filter(
		(key) => key !== "mm:sfu:nodes" && !key.startsWith("mm:token-key:") && !key.startsWith("mm:sfu:commands:"),
	);
	const out = new Map<string, string>();
	for (const key of keys.sort()) {
		const type = await client.type(key);
		let value: unknown;
		if (type === "string") value = await client.get(key);
		else if (type === "hash") value = Object.entries(await client.hGetAll(key)).sort();
		else if (type === "set") value = (await client.sMembers(key)).sort();
		else if (type === "zset") value = await client.zRangeWithScores(key, 0, -1);
		else if (type === "list") value = await client.lRange(key, 0, -1);
		else if (type === "stream") value = await client.xRange(key, "-", "+");
		else continue; // gone between KEYS and TYPE: it expired
		const ttl = await client.pTTL(key);
		// Gone between TYPE and here: it expired while being read (time, not a request, removed it).
		if (ttl === -2 || value === null) continue;
		out.set(key, JSON.stringify({ type, value, expiring: ttl >= 0 && ttl < 60_000 }));
	}
	return out;
}

function differences(before: Map<string, string>, after: Map<string, string>): string[] {
	const out: string[] = [];
	for (const [key, value] of before) {
		const now = after.get(key);
		// A key about to expire may go between the snapshots: time, not a request, removed it.
		if (now === undefined && (JSON.parse(value) as { expiring: boolean }).expiring) continue;
		if (now === undefined) out.push(`removed ${key}`);
		else if (now.replace(/"expiring":(true|false)/, "") !== value.replace(/"expiring":(true|false)/, "")) {
			out.push(`changed ${key}: ${value.slice(0, 200)} → ${now.slice(0, 200)}`);
		}
	}
	for (const key of after.keys()) if (!before.has(key)) out.push(`added ${key}`);
	return out;
}

export async function fuzzHttp(options: HttpFuzzOptions): Promise<HttpFuzzReport> {
	const { baseUrl, log } = options;
	const random = new Random(options.seed);
	const report: HttpFuzzReport = { sent: 0, routes: 0, statuses: {}, refusedBatchesCompared: 0, failures: [] };
	const post = async (path: string, body: unknown, token?: string) => {
		const response = await fetch(`${baseUrl}${path}`, {
			method: "POST",
			headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
			body: JSON.stringify(body),
		});
		return (await response.json()) as Record<string, string>;
	};

	// Real identifiers, so some mutations get past the first check and exercise the deeper ones.
	const room = await post("/api/rooms", { hostName: "HTTP fuzz host", mode: "video" });
	const knock = await post(`/api/rooms/${room.roomId}/knocks`, { name: "HTTP fuzz guest" });
	const known: Record<string, string> = {
		roomId: String(room.roomId),
		knockId: String(knock.knockId),
		secret: String(knock.knockSecret),
		peerId: "p".repeat(12),
		name: "fuzzaccount",
		nodeId: "node",
	};
	const realTokens = [String(room.hostToken), options.adminToken];

	const document = (await (await fetch(`${baseUrl}/api/openapi.json`)).json()) as OpenApiDocument;
	const operations: Operation[] = [];
	for (const [path, methods] of Object.entries(document.paths)) {
		for (const [method, operation] of Object.entries(methods)) {
			if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
			operations.push({
				method: method.toUpperCase(),
				path,
				parameters: operation.parameters ?? [],
				body: operation.requestBody?.content?.["application/json"]?.schema,
			});
		}
	}
	report.routes = operations.length;
	log(`http: ${operations.length} operations in the OpenAPI document`);
	if (operations.length === 0) report.failures.push("the OpenAPI document lists no operation");

	const forgedJwt = () => {
		const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
		return `${part({ alg: random.pick(["none", "HS256", "EdDSA"]), kid: random.string(8) })}.${part({
			sub: "host",
			role: "host",
			roomId: known.roomId,
			exp: 9_999_999_999,
		})}.${random.string(43)}`;
	};
	const authorization = (credentialed: boolean): string | undefined => {
		if (credentialed && random.chance(0.6)) return `Bearer ${random.pick(realTokens)}`;
		switch (random.int(8)) {
			case 0:
				return undefined;
			case 1:
				return `Bearer ${random.string(32)}`;
			case 2:
				return `Bearer ${forgedJwt()}`;
			case 3: {
				// A real token with one character changed: its signature no longer holds.
				const real = random.pick(realTokens);
				const at = random.int(real.length);
				return `Bearer ${real.slice(0, at)}${real[at] === "A" ? "B" : "A"}${real.slice(at + 1)}`;
			}
			case 4:
				return `Basic ${Buffer.from("admin:admin").toString("base64")}`;
			case 5:
				return `Bearer ${"t".repeat(random.pick([1_000, 7_000]))}`;
			case 6:
				return "Bearer";
			default:
				return `Bearer ${options.adminToken.slice(0, -1)}x`;
		}
	};
	const pathValue = (name: string): string => {
		const roll = random.int(12);
		if (roll < 4) return encodeURIComponent(known[name] ?? random.string(12));
		const values = [
			"",
			"%00",
			"..%2F..%2Fetc%2Fpasswd",
			"x".repeat(5_000),
			"%E2%80%AE%C3%A9",
			"-1",
			"null",
			"%",
			encodeURIComponent(JSON.stringify(deepJson(20, false))),
		];
		return random.pick(values);
	};

	const client = createClient({ url: options.redisUrl });
	client.on("error", () => {});
	await client.connect();
	try {
		let batch = 0;
		while (report.sent < options.requests) {
			// Even batches are hostile (no real credential): everything in them should be refused.
			const credentialed = batch % 2 === 1;
			batch++;
			const before = credentialed ? undefined : await snapshot(client);
			let allRefused = true;
			const batchStarted = performance.now();
			const batchRequests: string[] = [];
			for (let i = 0; i < options.batchSize && report.sent < options.requests; i++) {
				const operation = random.pick(operations);
				let path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => pathValue(name));
				const query = new URLSearchParams();
				for (const parameter of operation.parameters.filter((p) => p.in === "query")) {
					if (random.chance(0.7)) {
						const value = random.chance(0.5) ? (known[parameter.name] ?? "x") : JSON.stringify(hostileValue(random));
						query.set(parameter.name, value.slice(0, 6_000));
					}
				}
				if (random.chance(0.2)) query.set(random.string(6), random.string(random.int(100)));
				if (random.chance(0.05)) query.set("__proto__", "polluted");
				if (query.size > 0) path += `?${query}`;
				const method = random.chance(0.05)
					? random.pick(["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
					: operation.method;
				const headers: Record<string, string> = {};
				const auth = authorization(credentialed);
				if (auth) headers.authorization = auth;
				if (random.chance(0.05)) headers["x-forwarded-for"] = random.pick(["1.2.3.4", "::1", "garbage", ""]);
				let body: string | Uint8Array<ArrayBuffer> | undefined;
				if (method !== "GET" && method !== "HEAD" && (operation.body || random.chance(0.3))) {
					const valid = sample(operation.body, random, known);
					const roll = random.int(10);
					if (roll < 4) body = JSON.stringify(mutateObject(random, valid));
					else if (roll < 5) body = JSON.stringify(credentialed ? valid : mutateObject(random, valid));
					else if (roll < 6) body = random.pick(["{", "not json", "", "[1,2", "\u0000", "null", "1e999999"]);
					else if (roll < 7) body = "[".repeat(random.pick([1_000, 10_000])) + "]".repeat(1_000);
					else if (roll < 8)
						body = JSON.stringify({ pad: "z".repeat(20_000) }); // over the 16 KiB body limit
					else if (roll < 9) body = new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x80]);
					else body = JSON.stringify(mutateObject(random, mutateObject(random, valid)));
					headers["content-type"] = random.pick([
						"application/json",
						"application/json",
						"application/json",
						"text/plain",
						"application/x-www-form-urlencoded",
						"multipart/form-data; boundary=x",
						"application/json; charset=utf-16",
						"garbage",
					]);
				}
				const described = `${method} ${path.slice(0, 300)} auth=${auth ? `${auth.slice(0, 40)}…` : "none"} body=${
					body === undefined
						? "none"
						: (typeof body === "string" ? body : `<${body.length} binary bytes>`).slice(0, 300)
				}`;
				batchRequests.push(described);
				let status: number;
				try {
					const response = await fetch(`${baseUrl}${path}`, {
						method,
						headers,
						...(body === undefined ? {} : { body }),
						signal: AbortSignal.timeout(30_000),
					});
					status = response.status;
					await response.arrayBuffer();
				} catch (error) {
					report.failures.push(`no answer (${(error as Error).message}) to ${described}`);
					report.sent++;
					allRefused = false;
					continue;
				}
				report.sent++;
				report.statuses[String(status)] = (report.statuses[String(status)] ?? 0) + 1;
				if (status >= 500) report.failures.push(`${status} for ${described}`);
				// A read (GET/HEAD) that succeeds changes nothing either: it does not spoil the comparison.
				if (status >= 500 || (status < 400 && !["GET", "HEAD", "OPTIONS"].includes(method))) allRefused = false;
			}
			if (before && allRefused) {
				const changes = differences(before, await snapshot(client));
				report.refusedBatchesCompared++;
				const seconds = ((performance.now() - batchStarted) / 1000).toFixed(1);
				for (const change of changes) {
					report.failures.push(
						`state changed by a batch of refused requests (${seconds} s): ${change}; the batch:\n  ${batchRequests
							.map((line) => line.slice(0, 200))
							.join("\n  ")}`,
					);
				}
			}
			if (batch % 20 === 0) log(`http: ${report.sent}/${options.requests} requests`);
		}
	} finally {
		await client.quit();
	}
	return report;
}
