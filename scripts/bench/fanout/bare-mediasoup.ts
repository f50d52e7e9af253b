/**
 * (b) Bare mediasoup 3.27.1, the product's worker binary, no product code:
 * a tiny server process (bare-mediasoup-server.ts) creates what the
 * subscribers ask for, directly (no rooms, no lobby, no signaling server).
 * The publisher enters as in the product: a WebRTC send transport and two
 * producers fed from the same headless peer.
 */

import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { within } from "@mindmeet/testing/bounded";
import {
	dtlsParametersOf,
	HeadlessPeer,
	type HeadlessStream,
	type HeadlessTransportParameters,
	mediasoupSdp,
} from "@mindmeet/testing/headless-webrtc";
import { pin, sfuCore } from "./cpu.ts";
import { publisherTracks } from "./media-source.ts";
import { describeConsumers, producerRtpParameters, subscriberRtpCapabilities } from "./mediasoup-params.ts";
import type { FanoutSystem } from "./system.ts";

const serverScript = join(fileURLToPath(new URL(".", import.meta.url)), "bare-mediasoup-server.ts");

type Transport = HeadlessTransportParameters & { id: string };
type ConsumerInfo = { id: string; kind: "audio" | "video"; rtpParameters: HeadlessStream["rtpParameters"] };

class BareClient {
	readonly #child: ChildProcess;
	readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
	#next = 1;

	constructor(child: ChildProcess) {
		this.#child = child;
		child.on("message", (message: { id?: number; result?: unknown; error?: string }) => {
			const waiter = message.id === undefined ? undefined : this.#pending.get(message.id);
			if (!waiter || message.id === undefined) return;
			this.#pending.delete(message.id);
			if (message.error !== undefined) waiter.reject(new Error(`bare mediasoup: ${message.error}`));
			else waiter.resolve(message.result);
		});
	}

	request<T>(method: string, data: Record<string, unknown> = {}): Promise<T> {
		const id = this.#next++;
		const answer = new Promise<unknown>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
		this.#child.send({ id, method, data });
		return within(answer, 30_000, `bare mediasoup ${method}`) as Promise<T>;
	}
}

export async function startBareMediasoup(): Promise<FanoutSystem> {
	const child = fork(serverScript, [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
	const ready = await within(
		new Promise<{ workerPid: number }>((resolve, reject) => {
			child.once("message", (message: { workerPid: number }) => resolve(message));
			child.once("exit", (code) => reject(new Error(`the bare mediasoup process exited (${code})`)));
		}),
		60_000,
		"bare mediasoup start",
	);
	const pids = [child.pid as number, ready.workerPid];
	for (const pid of pids) pin(pid, sfuCore);
	const client = new BareClient(child);
	const peers: HeadlessPeer[] = [];
	const stop = async () => {
		for (const peer of peers) peer.close();
		if (child.exitCode === null && child.signalCode === null) {
			const gone = new Promise((resolve) => child.once("exit", resolve));
			child.disconnect();
			const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
			await gone;
			clearTimeout(timer);
		}
	};
	try {
		// The publisher: a send transport, our offer, mediasoup's answer, two producers.
		const publisher = new HeadlessPeer("bare-publisher");
		peers.push(publisher);
		const send = await client.request<Transport>("createTransport");
		const offer = await publisher.offer(publisherTracks);
		const streams = publisherTracks.map((spec) => ({
			kind: spec.kind,
			rtpParameters: producerRtpParameters(spec.kind),
		}));
		publisher.accept(mediasoupSdp(send, streams, "recvonly", "answer"));
		await client.request("connect", { transportId: send.id, dtlsParameters: dtlsParametersOf(offer) });
		await publisher.connected();
		for (const stream of streams) {
			await client.request("produce", { transportId: send.id, kind: stream.kind, rtpParameters: stream.rtpParameters });
		}
		let negotiated = "";
		return {
			name: "bare mediasoup",
			pids,
			roles: ["node process", "worker"],
			publisher,
			get negotiated() {
				return negotiated;
			},
			async subscribe(index) {
				const peer = new HeadlessPeer(`bare-subscriber-${index}`);
				peers.push(peer);
				const transport = await client.request<Transport>("createTransport");
				const consumers = await client.request<ConsumerInfo[]>("consume", {
					transportId: transport.id,
					rtpCapabilities: subscriberRtpCapabilities,
				});
				negotiated ||= describeConsumers(consumers);
				const answer = await peer.answer(mediasoupSdp(transport, consumers, "sendonly", "offer"));
				await client.request("connect", { transportId: transport.id, dtlsParameters: dtlsParametersOf(answer) });
				await peer.connected();
				return peer;
			},
			stop,
		};
	} catch (error) {
		await stop();
		throw error;
	}
}
