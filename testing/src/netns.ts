/**
 * A non-loopback address of the test's own (issue 12, ENVIRONMENT.md
 * "Network faults"): a network namespace and a veth pair whose root-side end
 * carries 10.223.x.y/30. Firefox gathers ICE candidates on it (it never uses
 * loopback), and the test stack's SFU listens and announces on it too, so a
 * same-machine Firefox gets media without the machine's own external
 * interface being involved. Needs root.
 *
 * Removed by remove(), when the process exits, and — if a run was SIGKILLed
 * — by the next run of this helper on the machine (the names carry the pid).
 */
import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";

export interface TestAddress {
	/** The root-namespace address, e.g. 10.223.17.1: the SFU listens here and Firefox gathers here. */
	readonly address: string;
	/** The root-namespace interface carrying it. */
	readonly interfaceName: string;
	/** The namespace holding the other end. */
	readonly namespace: string;
	/** Delete the veth pair and the namespace; safe to call twice. */
	remove(): void;
}

const namespacePrefix = "mindmeet-test-";

function ip(...args: string[]): string {
	try {
		return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
	} catch (error) {
		const stderr = (error as { stderr?: string }).stderr?.trim();
		throw new Error(`ip ${args.join(" ")} failed${stderr ? `: ${stderr}` : ""} (this needs root and iproute2)`);
	}
}

function quietly(...args: string[]): void {
	try {
		execFileSync("ip", args, { stdio: "ignore" });
	} catch {
		// already gone
	}
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === "EPERM";
	}
}

const rootEnd = (pid: number, index: number) => `mmt${pid}-${index}`;

/** Namespaces (and their veth) left by runs of this helper whose process is gone. */
function removeLeftovers(): void {
	for (const line of ip("netns", "list").split("\n")) {
		const match = new RegExp(`^${namespacePrefix}(\\d+)-(\\d+)\\b`).exec(line.trim());
		if (!match) continue;
		const pid = Number(match[1]);
		if (alive(pid)) continue;
		quietly("link", "del", rootEnd(pid, Number(match[2])));
		quietly("netns", "del", `${namespacePrefix}${match[1]}-${match[2]}`);
	}
}

let created = 0;
const live = new Set<TestAddress>();
let exitHookInstalled = false;

/** Create the namespace, the veth pair and the address; both ends are up when it returns. */
export function createTestAddress(): TestAddress {
	removeLeftovers();
	if (!exitHookInstalled) {
		exitHookInstalled = true;
		process.once("exit", () => {
			for (const address of live) address.remove();
		});
	}
	const index = created++;
	const namespace = `${namespacePrefix}${process.pid}-${index}`;
	const interfaceName = rootEnd(process.pid, index);
	const peerName = `mmp${process.pid}-${index}`;
	// A /30 in 10.223/16 that no interface here carries yet (other runs may hold some).
	const taken = ip("-o", "-4", "addr", "show");
	let subnet = -1;
	for (let attempt = 0; attempt < 100 && subnet < 0; attempt++) {
		const candidate = randomInt(0, 16_384) * 4;
		const third = Math.floor(candidate / 256);
		if (!taken.includes(`10.223.${third}.${(candidate % 256) + 1}/`)) subnet = candidate;
	}
	if (subnet < 0) throw new Error("no free /30 found in 10.223.0.0/16");
	const prefix = `10.223.${Math.floor(subnet / 256)}.`;
	const address = `${prefix}${(subnet % 256) + 1}`;
	const peerAddress = `${prefix}${(subnet % 256) + 2}`;

	let removed = false;
	const result: TestAddress = {
		address,
		interfaceName,
		namespace,
		remove() {
			if (removed) return;
			removed = true;
			live.delete(result);
			quietly("link", "del", interfaceName);
			quietly("netns", "del", namespace);
		},
	};
	live.add(result);
	try {
		ip("netns", "add", namespace);
		ip("link", "add", interfaceName, "type", "veth", "peer", "name", peerName, "netns", namespace);
		ip("addr", "add", `${address}/30`, "dev", interfaceName);
		ip("-n", namespace, "addr", "add", `${peerAddress}/30`, "dev", peerName);
		ip("-n", namespace, "link", "set", peerName, "up");
		ip("link", "set", interfaceName, "up");
	} catch (error) {
		result.remove();
		throw error;
	}
	return result;
}
