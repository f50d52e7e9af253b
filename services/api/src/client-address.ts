/**
 * The key a per-address rate limit counts against. IPv4: the address. IPv6:
 * its /64, because one subscriber usually gets a whole /64 and can pick any of
 * its 2^64 addresses; counting them apart would make the limit meaningless.
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`, how a dual-stack socket reports IPv4
 * clients) counts as the IPv4 address it maps.
 *
 * Meant for every per-address limit (room creation, sign-in, knocks) as the
 * `keyGenerator` of @fastify/rate-limit, fed `request.ip` (which follows the
 * app's trustProxy setting).
 */
import { isIPv4, isIPv6 } from "node:net";
import fastifyRateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import { HttpError } from "./http-errors.ts";

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
	const bare = address.replace(/%.*$/, "");
	if (!isIPv6(bare)) return undefined;
	let text = bare;
	const groups: number[] = [];
	// A dotted IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) is two groups.
	const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
	let tailGroups: number[] = [];
	if (tail?.[1]) {
		const octets = tail[1].split(".").map(Number) as [number, number, number, number];
		tailGroups = [(octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]];
		text = text.slice(0, -tail[1].length).replace(/:$/, "") || ":";
		if (text.endsWith(":") && !text.endsWith("::")) text = `${text}:`;
	}
	const [head = "", rest] = text.split("::");
	const parse = (part: string) =>
		part === "" || part === ":" ? [] : part.split(":").map((g) => Number.parseInt(g, 16));
	const headGroups = parse(head);
	const restGroups = rest === undefined ? [] : parse(rest);
	const missing = 8 - headGroups.length - restGroups.length - tailGroups.length;
	if (rest === undefined && missing !== 0) return undefined;
	groups.push(...headGroups, ...new Array<number>(Math.max(0, missing)).fill(0), ...restGroups, ...tailGroups);
	return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

export function clientAddressKey(ip: string): string {
	if (isIPv4(ip)) return ip;
	const groups = ipv6Groups(ip);
	if (!groups) return ip;
	// ::ffff:a.b.c.d → a.b.c.d
	if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
		const [hi = 0, lo = 0] = groups.slice(6);
		return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
	}
	return `${groups
		.slice(0, 4)
		.map((g) => g.toString(16))
		.join(":")}::/64`;
}

/**
 * Register @fastify/rate-limit on `app` for routes that opt in with
 * `config.rateLimit`: counted per client address as above (per API
 * instance, in memory), refused with "too many <what> from this address".
 */
export async function limitPerClientAddress(app: FastifyInstance, what: string): Promise<void> {
	await app.register(fastifyRateLimit, {
		global: false,
		keyGenerator: (request) => clientAddressKey(request.ip),
		errorResponseBuilder: (_request, context) =>
			new HttpError(
				context.statusCode,
				`too many ${what} from this address, try again in ${Math.max(1, Math.ceil(context.ttl / 1000))} seconds`,
			),
	});
}
