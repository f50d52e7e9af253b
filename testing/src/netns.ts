/**
 * Hosts of their own for tests (ENVIRONMENT.md, "Network faults and several
 * hosts"): a network namespace joined to the root namespace by a veth pair,
 * each end with an address in a private /30 chosen by the test. A process
 * started with `ip netns exec` in it listens on its own address, which the
 * root namespace (the API, Chromium) reaches over the veth and which reaches
 * back to the host side's address (Redis).
 *
 * Everything made here is removed by remove(), by removeAllHosts() and, as a
 * last resort, when the process exits: deleting the namespace deletes its
 * end of the veth, and deleting either end deletes the pair.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

export interface TestHost {
	/** The namespace's name (for `ip netns exec`). */
	readonly namespace: string;
	/** The namespace's address (its end of the veth). */
	readonly address: string;
	/** The root namespace's address on the same link (the host side of the veth). */
	readonly hostAddress: string;
	/** The root namespace's end of the veth. */
	readonly link: string;
	/** Run `command` inside the namespace: the argv to spawn. */
	exec(command: string, args: readonly string[]): { command: string; args: string[] };
	remove(): void;
}

const made = new Set<TestHost>();

function ip(...args: string[]): string {
	return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Best effort: a step that fails because the thing is already gone is fine. */
function quietly(...args: string[]): void {
	try {
		ip(...args);
	} catch {
		// already gone
	}
}

/**
 * A /24 in 10.213.0.0/16 that no interface of the root namespace uses yet
 * (other tests on this machine may have made hosts of their own): 64 /30s.
 */
export function freeSubnet(): string {
	const used = ip("-4", "-o", "addr", "show");
	for (let attempt = 0; attempt < 50; attempt++) {
		const third = 1 + Math.floor(Math.random() * 254);
		const prefix = `10.213.${third}.`;
		if (!used.includes(` ${prefix}`)) return prefix;
	}
	throw new Error("no free /24 in 10.213.0.0/16 for the test's hosts");
}

/**
 * Make a namespace on the /30 `prefix` + `4 * index` (host side .1, namespace
 * side .2 of that /30). Throws, leaving nothing behind, when it cannot.
 */
export function makeHost(prefix: string, index: number): TestHost {
	const tag = randomBytes(3).toString("hex");
	// Interface names are at most 15 characters.
	const namespace = `mm-${tag}-${index}`;
	const hostSide = `mm${tag}h${index}`;
	const nsSide = `mm${tag}n${index}`;
	const base = index * 4;
	const hostAddress = `${prefix}${base + 1}`;
	const address = `${prefix}${base + 2}`;
	const host: TestHost = {
		namespace,
		address,
		hostAddress,
		link: hostSide,
		exec: (command, args) => ({ command: "ip", args: ["netns", "exec", namespace, command, ...args] }),
		remove() {
			made.delete(host);
			quietly("link", "del", hostSide);
			quietly("netns", "del", namespace);
		},
	};
	made.add(host);
	try {
		ip("netns", "add", namespace);
		ip("link", "add", hostSide, "type", "veth", "peer", "name", nsSide);
		ip("link", "set", nsSide, "netns", namespace);
		ip("addr", "add", `${hostAddress}/30`, "dev", hostSide);
		ip("link", "set", hostSide, "up");
		ip("-n", namespace, "addr", "add", `${address}/30`, "dev", nsSide);
		ip("-n", namespace, "link", "set", nsSide, "up");
		ip("-n", namespace, "link", "set", "lo", "up");
	} catch (error) {
		host.remove();
		throw new Error(`could not make the test host ${namespace}: ${(error as Error).message}`);
	}
	return host;
}

/** Remove every namespace and veth this process made (idempotent). */
export function removeAllHosts(): void {
	for (const host of [...made]) host.remove();
}

/** Whether a namespace of that name exists. */
export function namespaceExists(namespace: string): boolean {
	return ip("netns", "list")
		.split("\n")
		.some((line) => line.split(" ")[0] === namespace);
}

/** Whether an interface of that name exists in the root namespace. */
export function linkExists(name: string): boolean {
	try {
		ip("link", "show", name);
		return true;
	} catch {
		return false;
	}
}

/**
 * A non-loopback address of the test's own in the root namespace: the host
 * side of one such veth. Firefox gathers ICE candidates on it (it never uses
 * loopback), and a test stack's SFU listens and announces on it too, so a
 * same-machine Firefox gets media without the machine's own external
 * interface being involved (issue 12).
 */
export interface TestAddress {
	/** The root-namespace address: the SFU listens here and Firefox gathers here. */
	readonly address: string;
	/** The root-namespace interface carrying it. */
	readonly interfaceName: string;
	/** The namespace holding the other end. */
	readonly namespace: string;
	/** Delete the veth pair and the namespace; safe to call twice. */
	remove(): void;
}

export function createTestAddress(): TestAddress {
	const host = makeHost(freeSubnet(), 0);
	return {
		address: host.hostAddress,
		interfaceName: host.link,
		namespace: host.namespace,
		remove: () => host.remove(),
	};
}

process.once("exit", removeAllHosts);
