import type { JSX } from "solid-js";

/*
 * A handful of icons drawn inline so nothing is fetched at run time. The
 * shapes follow Lucide (ISC licence): 24×24, stroked with the text colour.
 */
function Icon(props: { children: JSX.Element }): JSX.Element {
	return (
		<svg
			class="icon"
			viewBox="0 0 24 24"
			fill="none"
			stroke="currentColor"
			stroke-width="2"
			stroke-linecap="round"
			stroke-linejoin="round"
			aria-hidden="true"
		>
			{props.children}
		</svg>
	);
}

export const MicIcon = () => (
	<Icon>
		<path d="M12 2a3 3 0 0 0-3 3v7a3 3 0 0 0 6 0V5a3 3 0 0 0-3-3Z" />
		<path d="M19 10v2a7 7 0 0 1-14 0v-2" />
		<path d="M12 19v3" />
	</Icon>
);

export const MicOffIcon = () => (
	<Icon>
		<path d="m2 2 20 20" />
		<path d="M18.89 13.23A7.12 7.12 0 0 0 19 12v-2" />
		<path d="M5 10v2a7 7 0 0 0 12 5" />
		<path d="M15 9.34V5a3 3 0 0 0-5.68-1.33" />
		<path d="M9 9v3a3 3 0 0 0 5.12 2.12" />
		<path d="M12 19v3" />
	</Icon>
);

export const CamIcon = () => (
	<Icon>
		<path d="m16 13 5.223 3.482a.5.5 0 0 0 .777-.416V7.87a.5.5 0 0 0-.752-.432L16 10.5" />
		<rect x="2" y="6" width="14" height="12" rx="2" />
	</Icon>
);

export const CamOffIcon = () => (
	<Icon>
		<path d="M10.66 6H14a2 2 0 0 1 2 2v2.5l5.248-3.062A.5.5 0 0 1 22 7.87v8.196" />
		<path d="M16 16a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h2" />
		<path d="m2 2 20 20" />
	</Icon>
);

export const LeaveIcon = () => (
	<Icon>
		<path d="M10.68 13.31a16 16 0 0 0 3.41 2.6l1.27-1.27a2 2 0 0 1 2.11-.45 12.84 12.84 0 0 0 2.81.7 2 2 0 0 1 1.72 2v3a2 2 0 0 1-2.18 2 19.79 19.79 0 0 1-8.63-3.07 19.42 19.42 0 0 1-3.33-2.67m-2.67-3.34a19.79 19.79 0 0 1-3.07-8.63A2 2 0 0 1 4.11 2h3a2 2 0 0 1 2 1.72 12.84 12.84 0 0 0 .7 2.81 2 2 0 0 1-.45 2.11L8.09 9.91" />
		<path d="m22 2-20 20" />
	</Icon>
);

export const CloseIcon = () => (
	<Icon>
		<path d="M18 6 6 18" />
		<path d="m6 6 12 12" />
	</Icon>
);

export const UsersIcon = () => (
	<Icon>
		<path d="M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2" />
		<circle cx="9" cy="7" r="4" />
		<path d="M22 21v-2a4 4 0 0 0-3-3.87" />
		<path d="M16 3.13a4 4 0 0 1 0 7.75" />
	</Icon>
);

export const UserPlusIcon = () => (
	<Icon>
		<path d="M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2" />
		<circle cx="9" cy="7" r="4" />
		<path d="M19 8v6" />
		<path d="M22 11h-6" />
	</Icon>
);

export const UserXIcon = () => (
	<Icon>
		<path d="M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2" />
		<circle cx="9" cy="7" r="4" />
		<path d="m17 8 5 5" />
		<path d="m22 8-5 5" />
	</Icon>
);

export const CopyIcon = () => (
	<Icon>
		<rect width="14" height="14" x="8" y="8" rx="2" ry="2" />
		<path d="M4 16c-1.1 0-2-.9-2-2V4c0-1.1.9-2 2-2h10c1.1 0 2 .9 2 2" />
	</Icon>
);

export const CrownIcon = () => (
	<Icon>
		<path d="M11.562 3.266a.5.5 0 0 1 .876 0L15.39 8.87a1 1 0 0 0 1.516.294L21.183 5.5a.5.5 0 0 1 .798.519l-2.834 10.246a1 1 0 0 1-.956.734H5.81a1 1 0 0 1-.957-.734L2.02 6.02a.5.5 0 0 1 .798-.519l4.276 3.664a1 1 0 0 0 1.516-.294z" />
		<path d="M5 21h14" />
	</Icon>
);
