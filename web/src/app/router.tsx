import { createSignal, type JSX, onCleanup, splitProps } from "solid-js";

/** The two screens of the app; anything else is a not-found page. */
export type Route = { name: "home" } | { name: "room"; roomId: string } | { name: "not-found" };

const [path, setPath] = createSignal(window.location.pathname);

export function matchRoute(pathname: string): Route {
	if (pathname === "/" || pathname === "") return { name: "home" };
	const room = /^\/r\/([^/]+)\/?$/.exec(pathname);
	if (room?.[1]) {
		try {
			return { name: "room", roomId: decodeURIComponent(room[1]) };
		} catch {
			return { name: "not-found" };
		}
	}
	return { name: "not-found" };
}

export function currentRoute(): Route {
	return matchRoute(path());
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
	const url = new URL(to, window.location.origin);
	if (url.pathname === window.location.pathname && url.search === window.location.search) return;
	if (options.replace) window.history.replaceState(null, "", url);
	else window.history.pushState(null, "", url);
	setPath(url.pathname);
}

/** Follow the browser's back/forward buttons; call once from the root component. */
export function useHistory(): void {
	const onPopState = () => setPath(window.location.pathname);
	window.addEventListener("popstate", onPopState);
	onCleanup(() => window.removeEventListener("popstate", onPopState));
}

/** An ordinary link that navigates in place, unless the user asks for a new tab or window. */
export function Link(props: JSX.AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }): JSX.Element {
	const [local, rest] = splitProps(props, ["href", "onClick"]);
	const onClick = (event: MouseEvent & { currentTarget: HTMLAnchorElement; target: Element }) => {
		if (typeof local.onClick === "function") local.onClick(event);
		if (event.defaultPrevented || event.button !== 0) return;
		if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
		event.preventDefault();
		navigate(local.href);
	};
	return <a href={local.href} onClick={onClick} {...rest} />;
}
