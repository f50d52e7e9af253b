/**
 * A participant without a browser: it knocks through the real lobby (HTTP +
 * the waiting WebSocket), is admitted by a real host, and talks to the SFU
 * with protoo-client, the library the web client uses. For checks that are
 * awkward through the UI (flooding, exact error codes).
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { request } from "node:http";
import {
	type ClientRequestMethod,
	type ClientRequests,
	type CreateRoomResponse,
	type KnockResponse,
	type LobbyGuestEvent,
	type RoomInfo,
	type ServerNotifications,
	signalingRoomParam,
	signalingTokenParam,
} from "@mindmeet/protocol";
import { Peer, WebSocketTransport } from "protoo-client";

/** Create a room as the home page does; throws with the API's answer unless it is 201. */
export async function createRoomOverHttp(
	baseUrl: string,
	hostName: string,
	mode: "video" | "audio" = "video",
): Promise<CreateRoomResponse> {
	const response = await fetch(`${baseUrl}/api/rooms`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ hostName, mode }),
	});
	if (response.status !== 201) throw new Error(`room creation: ${response.status} ${await response.text()}`);
	return (await response.json()) as CreateRoomResponse;
}

/** Admit a knock with the host's token, as the host's modal does; throws with the API's answer unless it is 200. */
export async function admitOverHttp(
	baseUrl: string,
	roomId: string,
	knockId: string,
	hostToken: string,
): Promise<void> {
	const response = await fetch(
		`${baseUrl}/api/rooms/${encodeURIComponent(roomId)}/knocks/${encodeURIComponent(knockId)}/admit`,
		{ method: "POST", headers: { authorization: `Bearer ${hostToken}` } },
	);
	if (response.status !== 200) throw new Error(`admit: ${response.status} ${await response.text()}`);
}

export interface PendingKnock {
	knock: KnockResponse;
	/** Resolves with the credentials once the host admits; rejects on any other answer. */
	admitted: Promise<{ token: string; peerId: string }>;
}

/** POST a knock and wait on its socket, as the waiting screen does. */
export async function knockOverHttp(baseUrl: string, roomId: string, name: string): Promise<PendingKnock> {
	const response = await fetch(`${baseUrl}/api/rooms/${encodeURIComponent(roomId)}/knocks`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ name }),
	});
	if (!response.ok) throw new Error(`knock failed: ${response.status} ${await response.text()}`);
	const knock = (await response.json()) as KnockResponse;
	const url = new URL(
		`/api/rooms/${encodeURIComponent(roomId)}/knocks/${encodeURIComponent(knock.knockId)}/wait`,
		baseUrl.replace(/^http/, "ws"),
	);
	url.searchParams.set("secret", knock.knockSecret);
	const socket = new WebSocket(url);
	const admitted = new Promise<{ token: string; peerId: string }>((resolve, reject) => {
		socket.addEventListener("message", (event) => {
			const data = JSON.parse(String(event.data)) as LobbyGuestEvent;
			if (data.type === "waiting") return;
			socket.close(1000);
			if (data.type === "admitted") resolve({ token: data.token, peerId: data.peerId });
			else reject(new Error(`knock ended: ${data.type}`));
		});
		socket.addEventListener("close", () => reject(new Error("the waiting socket closed without an answer")));
	});
	// The knock only counts while its socket is open: wait for it before the host is asked to answer.
	await new Promise<void>((resolve, reject) => {
		socket.addEventListener("open", () => resolve(), { once: true });
		socket.addEventListener("error", () => reject(new Error("the waiting socket did not open")), { once: true });
	});
	admitted.catch(() => {});
	return { knock, admitted };
}

interface Received {
	method: string;
	data: unknown;
}

export interface SignalingPeerOptions {
	/**
	 * Accept every request the SFU makes (newConsumer) at once, as a
	 * browser that wants everything would (default true). A participant
	 * that must prepare for a consumer before accepting it (renegotiate its
	 * receiving peer connection first, as mediasoup-client does) passes
	 * false and answers `client.on("request")` itself.
	 */
	acceptRequests?: boolean;
}

/** A protoo connection to the room's SFU with the token the lobby gave. */
export class SignalingPeer {
	readonly client: Peer;
	readonly notifications: Received[] = [];

	private constructor(url: string, options: SignalingPeerOptions) {
		this.client = new Peer(new WebSocketTransport(url, { retry: { retries: 0 } }));
		this.client.on("notification", (notification) => {
			this.notifications.push({ method: notification.method, data: notification.data });
		});
		// Accept whatever the SFU asks (new consumers), as a browser would.
		if (options.acceptRequests !== false) this.client.on("request", (_request, accept) => accept());
	}

	/** Open the protoo socket where the room's RoomInfo says the SFU is. */
	static async connect(
		baseUrl: string,
		roomId: string,
		token: string,
		options: SignalingPeerOptions = {},
	): Promise<SignalingPeer> {
		const info = (await (await fetch(`${baseUrl}/api/rooms/${encodeURIComponent(roomId)}`)).json()) as RoomInfo;
		const url = new URL(info.sfuUrl, baseUrl.replace(/^http/, "ws"));
		url.searchParams.set(signalingTokenParam, token);
		url.searchParams.set(signalingRoomParam, roomId);
		const peer = new SignalingPeer(url.toString(), options);
		const emitter = peer.client as unknown as NodeJS.EventEmitter;
		await Promise.race([
			once(emitter, "open"),
			once(emitter, "failed").then(() => {
				throw new Error(`could not open the signaling socket at ${url.origin}${url.pathname}`);
			}),
		]);
		return peer;
	}

	request<M extends ClientRequestMethod>(
		method: M,
		data: ClientRequests[M]["request"],
	): Promise<ClientRequests[M]["response"]> {
		return this.client.request(method, data);
	}

	/** Enter the call without media: empty capabilities, so nothing is sent to us. */
	join(): Promise<ClientRequests["join"]["response"]> {
		return this.request("join", { rtpCapabilities: { codecs: [] } });
	}

	/** Wait until a notification of `method` matching `where` has arrived. */
	async notification<M extends keyof ServerNotifications>(
		method: M,
		where: (data: ServerNotifications[M]) => boolean = () => true,
		timeoutMs = 15_000,
	): Promise<ServerNotifications[M]> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const found = this.notifications.find((n) => n.method === method && where(n.data as ServerNotifications[M]));
			if (found) return found.data as ServerNotifications[M];
			if (this.client.closed) throw new Error(`signaling closed before a ${method} notification arrived`);
			if (Date.now() > deadline) throw new Error(`no ${method} notification within ${timeoutMs} ms`);
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	}

	close(): void {
		this.client.close();
	}
}

/**
 * The HTTP status a protoo WebSocket upgrade at `url` gets (101 when
 * accepted): for checks of what the SFU's door answers before any protoo.
 */
export function upgradeStatus(url: string | URL): Promise<number> {
	const target = new URL(url);
	return new Promise((resolve, reject) => {
		const req = request({
			host: target.hostname,
			port: target.port,
			path: `${target.pathname}${target.search}`,
			headers: {
				connection: "Upgrade",
				upgrade: "websocket",
				"sec-websocket-version": "13",
				"sec-websocket-key": randomBytes(16).toString("base64"),
				"sec-websocket-protocol": "protoo",
			},
			timeout: 10_000,
		});
		req.on("upgrade", (response, socket) => {
			socket.destroy();
			resolve(response.statusCode ?? 0);
		});
		req.on("response", (response) => {
			response.resume();
			resolve(response.statusCode ?? 0);
		});
		req.on("timeout", () => req.destroy(new Error("no answer to the upgrade")));
		req.on("error", reject);
		req.end();
	});
}
