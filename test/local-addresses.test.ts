/**
 * Which of this machine's addresses `npm start` gives the SFU besides
 * 127.0.0.1 (issue 12: Firefox never pairs with loopback candidates).
 */
import assert from "node:assert/strict";
import type { NetworkInterfaceInfo } from "node:os";
import { test } from "node:test";
import { localMediaAddresses } from "../scripts/stack.ts";

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({
	address,
	netmask: "255.255.255.0",
	family: "IPv4",
	mac: "00:00:00:00:00:00",
	internal,
	cidr: `${address}/24`,
});
const v6 = (address: string): NetworkInterfaceInfo => ({
	address,
	netmask: "ffff:ffff:ffff:ffff::",
	family: "IPv6",
	mac: "00:00:00:00:00:00",
	internal: false,
	cidr: `${address}/64`,
	scopeid: 0,
});

test("local media addresses: non-loopback IPv4 only, each once, no link-local", () => {
	assert.deepEqual(
		localMediaAddresses({
			lo: [v4("127.0.0.1", true)],
			eth0: [v4("192.168.1.20"), v6("fd00::2"), v6("fe80::1")],
			wlan0: [v4("169.254.10.1"), v4("10.0.0.5")],
			twin: [v4("192.168.1.20")],
			gone: undefined,
		}),
		["192.168.1.20", "10.0.0.5"],
	);
	assert.deepEqual(localMediaAddresses({ lo: [v4("127.0.0.1", true)] }), [], "a loopback-only machine has none");
});
