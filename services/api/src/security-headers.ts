/**
 * Security headers on every answer of the API — the web app's HTML, its
 * assets, JSON, errors and 404s — set here rather than in a reverse proxy so
 * they hold behind any proxy, or none.
 *
 * The Content-Security-Policy allows only this origin. The web app needs no
 * more: scripts and styles are files under /assets/ (no inline <script> or
 * <style>; Solid sets dynamic styles through the CSSOM, which CSP allows),
 * the QR code is an inline SVG, video and audio come from MediaStreams, and
 * every fetch and WebSocket goes to this origin. `connect-src 'self'` covers
 * same-origin ws:/wss: in browsers that follow CSP3 (Chromium, Firefox,
 * recent Safari); the public URL's ws(s) origin is listed too for older
 * ones. WebRTC media (ICE, STUN, TURN) is not governed by CSP.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface SecurityHeadersOptions {
	/** The public origin (PUBLIC_URL), whose ws:/wss: form is allowed explicitly in connect-src. */
	publicUrl: string;
}

/** The WebSocket origin matching an http(s) origin: http → ws, https → wss. */
function webSocketOrigin(publicUrl: string): string {
	const url = new URL(publicUrl);
	return `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}`;
}

export function contentSecurityPolicy(publicUrl: string): string {
	return [
		// Fonts, workers, manifests and anything not named below: this origin only.
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		// The app shows no data: or blob: images (the QR code is SVG markup, avatars are CSS).
		"img-src 'self'",
		// Video and audio elements play MediaStreams; blob: and mediastream: for browsers that treat them as URLs.
		"media-src 'self' blob: mediastream:",
		`connect-src 'self' ${webSocketOrigin(publicUrl)}`,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	].join("; ");
}

/**
 * Only features the app uses are allowed, and only for this origin; a few
 * powerful ones it never uses are switched off. Every name here is one
 * Chromium knows: an unknown one is reported as an error in the console.
 */
export const permissionsPolicy = [
	"camera=(self)",
	"microphone=(self)",
	"display-capture=(self)",
	"fullscreen=(self)",
	"geolocation=()",
	"payment=()",
	"usb=()",
	"serial=()",
	"hid=()",
].join(", ");

export function securityHeaders(publicUrl: string): Record<string, string> {
	return {
		"content-security-policy": contentSecurityPolicy(publicUrl),
		"x-content-type-options": "nosniff",
		// A room link is a secret: it must not leave in a Referer header.
		"referrer-policy": "no-referrer",
		"permissions-policy": permissionsPolicy,
		// frame-ancestors 'none' for browsers that predate it.
		"x-frame-options": "DENY",
		"cross-origin-opener-policy": "same-origin",
		// Other sites may link here, but not load our responses as their subresources.
		"cross-origin-resource-policy": "same-origin",
		"x-permitted-cross-domain-policies": "none",
	};
}

/**
 * Registered on the root instance and not encapsulated (the fastify-plugin
 * convention, without the dependency), so its onSend hook runs for every
 * route, the not-found handler and the error handler alike.
 */
export function securityHeadersPlugin(app: FastifyInstance, options: SecurityHeadersOptions, done: () => void): void {
	const headers = securityHeaders(options.publicUrl);
	app.addHook("onSend", (_request: FastifyRequest, reply: FastifyReply, payload: unknown, next) => {
		reply.headers(headers);
		next(null, payload);
	});
	done();
}
// What fastify-plugin sets: skip encapsulation so the hook applies to the whole app.
Object.assign(securityHeadersPlugin, {
	[Symbol.for("skip-override")]: true,
	[Symbol.for("fastify.display-name")]: "security-headers",
});
