/**
 * (a) The product: its real stack (Redis, API, SFU with one worker), the
 * SFU's node process and its worker pinned to the SFU core. Everyone enters
 * the way a client does: the publisher is the room's host (creates the
 * room, opens signaling with its token, makes a send transport, joins,
 * produces a microphone and a camera); each subscriber knocks over HTTP, is
 * admitted by the host, opens protoo signaling with its token, makes a recv
 * transport, joins with real capabilities, takes the SFU's newConsumer
 * requests and connects DTLS.
 */

import { within } from "@mindmeet/testing/bounded";
import { dtlsParametersOf, HeadlessPeer, type HeadlessStream, mediasoupSdp } from "@mindmeet/testing/headless-webrtc";
import { admitOverHttp, createRoomOverHttp, knockOverHttp, SignalingPeer } from "@mindmeet/testing/signaling-peer";
import type { DtlsParameters } from "mediasoup-client/types";
import { freePort, startStack } from "../../stack.ts";
import { childrenOf, loadCore, pin, sfuCore } from "./cpu.ts";
import { publisherTracks } from "./media-source.ts";
import { describeConsumers, producerRtpParameters, subscriberRtpCapabilities } from "./mediasoup-params.ts";
import type { FanoutSystem } from "./system.ts";

interface NewConsumer {
	id: string;
	kind: "audio" | "video";
	rtpParameters: HeadlessStream["rtpParameters"];
}

export async function startProduct(): Promise<FanoutSystem> {
	const stack = await startStack({
		apiPort: await freePort(),
		rtcPort: 0,
		sfuWorkers: 1,
		output: "ignore",
		logLevel: "warn",
		env: {
			// Every subscriber knocks from 127.0.0.1; the room takes them all, on one router.
			KNOCK_RATE_LIMIT: "100000",
			ROOM_CREATE_RATE_LIMIT: "100000",
			KNOCKS_PENDING_MAX: "10000",
			ROOM_MAX_PEERS: "1000",
			SFU_ROOM_PEERS_PER_ROUTER: "1000",
		},
	});
	const signalings: SignalingPeer[] = [];
	const peers: HeadlessPeer[] = [];
	const stop = async () => {
		for (const signaling of signalings) signaling.close();
		for (const peer of peers) peer.close();
		await stack.stop();
	};
	try {
		const sfuPid = stack.pid("sfu");
		if (sfuPid === undefined) throw new Error("the SFU is not running");
		const workers = childrenOf(sfuPid);
		if (workers.length !== 1) throw new Error(`expected one mediasoup worker under the SFU, found ${workers.length}`);
		const pids = [sfuPid, ...workers];
		for (const pid of pids) pin(pid, sfuCore);
		for (const service of ["api", "redis"] as const) {
			const pid = stack.pid(service);
			if (pid !== undefined) pin(pid, loadCore);
		}

		const { roomId, hostToken } = await createRoomOverHttp(stack.url, "Publisher");

		// The publisher is the host.
		const host = await SignalingPeer.connect(stack.url, roomId, hostToken);
		signalings.push(host);
		const publisher = new HeadlessPeer("product-publisher");
		peers.push(publisher);
		await host.request("getRouterRtpCapabilities", {});
		const send = await host.request("createWebRtcTransport", { direction: "send" });
		await host.request("join", { rtpCapabilities: subscriberRtpCapabilities });
		const offer = await publisher.offer(publisherTracks);
		const streams = publisherTracks.map((spec) => ({
			kind: spec.kind,
			rtpParameters: producerRtpParameters(spec.kind),
		}));
		publisher.accept(mediasoupSdp(send, streams, "recvonly", "answer"));
		await host.request("connectWebRtcTransport", {
			transportId: send.id,
			dtlsParameters: dtlsParametersOf(offer) as DtlsParameters,
		});
		await publisher.connected();
		for (const stream of streams) {
			await host.request("produce", {
				transportId: send.id,
				kind: stream.kind,
				rtpParameters: stream.rtpParameters,
				source: stream.kind === "audio" ? "mic" : "cam",
			});
		}

		let negotiated = "";
		return {
			name: "product",
			pids,
			roles: ["SFU node process", "worker"],
			publisher,
			get negotiated() {
				return negotiated;
			},
			async subscribe(index) {
				const pending = await knockOverHttp(stack.url, roomId, `Subscriber ${index}`);
				await admitOverHttp(stack.url, roomId, pending.knock.knockId, hostToken);
				const { token } = await within(pending.admitted, 20_000, "admission");
				const signaling = await SignalingPeer.connect(stack.url, roomId, token);
				signalings.push(signaling);
				// SignalingPeer accepts every request the SFU makes, as a browser would; this keeps what they offered.
				const consumers: NewConsumer[] = [];
				let offered: () => void = () => {};
				const bothOffered = new Promise<void>((resolve) => {
					offered = resolve;
				});
				signaling.client.on("request", (request) => {
					if (request.method !== "newConsumer") return;
					consumers.push(request.data as NewConsumer);
					if (consumers.length === publisherTracks.length) offered();
				});
				await signaling.request("getRouterRtpCapabilities", {});
				const transport = await signaling.request("createWebRtcTransport", { direction: "recv" });
				await signaling.request("join", { rtpCapabilities: subscriberRtpCapabilities });
				await within(bothOffered, 20_000, `subscriber ${index}'s newConsumer requests`);
				consumers.sort((a, b) => Number(a.rtpParameters.mid) - Number(b.rtpParameters.mid));
				negotiated ||= describeConsumers(consumers);
				const peer = new HeadlessPeer(`product-subscriber-${index}`);
				peers.push(peer);
				const answer = await peer.answer(mediasoupSdp(transport, consumers, "sendonly", "offer"));
				await signaling.request("connectWebRtcTransport", {
					transportId: transport.id,
					dtlsParameters: dtlsParametersOf(answer) as DtlsParameters,
				});
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
