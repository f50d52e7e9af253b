import type { MessageKey } from "./pt-BR.ts";

/** English: typed against the pt-BR keys, so a missing or extra key does not compile. */
export const en: Record<MessageKey, string> = {
	"app.name": "Mindmeet",
	"app.tagline": "Video and audio calls right in the browser, on your own server.",

	"language.label": "Language",
	"language.pt-BR": "Português (Brasil)",
	"language.en": "English",

	"home.create.title": "Create a room",
	"home.create.name": "Your name",
	"home.create.namePlaceholder": "What should people call you?",
	"home.create.mode": "Call type",
	"home.create.modeVideo": "Video",
	"home.create.modeAudio": "Audio only",
	"home.create.submit": "Create room",
	"home.create.submitting": "Creating…",
	"home.join.title": "Join a room",
	"home.join.code": "Room code or link",
	"home.join.codePlaceholder": "Paste the link or type the code",
	"home.join.submit": "Join",
	"home.join.invalid": "That code or link does not look like a room. Check it and try again.",

	"form.nameRequired": "Type your name",

	"error.generic": "Oops, something went wrong, please try again later",

	"page.notFound": "Page not found",
	"page.backHome": "Back to the start page",

	"room.loading": "Loading the room…",
	"room.notFound": "Room not found or already ended",
	"room.loadFailed": "The room could not be loaded.",
	"room.retry": "Try again",

	"prejoin.title": "Ready to join?",
	"prejoin.audioRoom": "Audio-only call",
	"prejoin.cameraOff": "Camera is off",
	"prejoin.name": "Your name",
	"prejoin.knock": "Ask to join",
	"prejoin.knocking": "Sending request…",
	"prejoin.withoutMedia": "You can also join without camera and microphone.",

	"media.permission": "This app requires camera/microphone permission. Refresh the page and allow access.",
	"media.unavailable": "No camera or microphone is available on this device.",
	"media.mic": "Microphone",
	"media.cam": "Camera",
	"media.micMuted": "Microphone off",
	"media.micLevel": "Microphone level",
	"media.speaker": "Speaker",
	"media.devices": "Microphone, camera and speaker",
	"media.devicesTitle": "Audio and video",
	"media.unnamedDevice": "Device {number}",
	"media.deviceFailed": "That device could not be used. Choose another one.",
	"media.screenShare": "Share your screen",
	"media.screenShareStop": "Stop sharing your screen",
	"media.screenOf": "{name}'s screen",
	"media.screenOwn": "You are sharing your screen",
	"stage.enlarge": "Enlarge {name}",
	"stage.backToGrid": "Back to the grid",
	"stage.followSpeaker": "Spotlight whoever is speaking",

	"call.connecting": "Connecting…",
	"call.participants": "Participants",
	"call.controls": "Call controls",
	"call.you": "{name} (you)",
	"call.leave": "Leave the call",
	"call.disconnected": "You were disconnected from the room",
	"call.rejoin": "Join again",

	"waiting.title": "Waiting for the host to let you in…",
	"waiting.cancel": "Cancel request",
	"waiting.denied": "The host declined your request to join.",
	"waiting.expired": "Nobody answered in time. Try asking to join again.",

	"knock.title": "Request to join",
	"knock.question": "Do you want to let {name} into the room?",
	"knock.admit": "Admit",
	"knock.admitLabel": "Admit {name}",
	"knock.deny": "Deny",
	"knock.denyLabel": "Deny {name}",
	"knock.more": "{count} more waiting",

	"invite.alone": "Looks like you're alone here. Why not invite a friend to talk?",
	"invite.title": "Invite people",
	"invite.open": "Invite people",
	"invite.link": "Room link",
	"invite.copy": "Copy link",
	"invite.copied": "Room link copied",
	"invite.copyManually": "Could not copy by itself: the link is selected, copy it with Ctrl+C.",
	"invite.qr": "QR code with the room link",

	"participants.open": "Participants",
	"participants.title": "People in the call",
	"participants.host": "Host",
	"participants.kick": "Remove {name} from the room",

	"panel.close": "Close",

	"call.peerJoined": "{name} joined the room",
	"call.peerLeft": "{name} left the room",
	"call.kicked": "You were removed from the room",
	"call.roomClosed": "The room was closed",
	"call.nowHost": "You are now the host",

	"refused.token": "Your access to this room is no longer valid. Join again through the room link.",
	"refused.room": "Room not found or already ended",
	"refused.duplicate": "You are already in this room in another tab or device.",

	"toast.dismiss": "Dismiss",

	"chat.open": "Chat",
	"chat.openUnread": "Chat, unread messages: {count}",
	"chat.title": "Messages",
	"chat.history": "Message history",
	"chat.empty": "No messages yet. Why not say hi?",
	"chat.inputLabel": "Message",
	"chat.placeholder": "Write a message",
	"chat.hint": "Enter sends; Shift+Enter starts a new line.",
	"chat.send": "Send",
	"chat.older": "Earlier messages",
	"chat.rateLimited": "You are sending messages too fast. Wait a moment.",
	"chat.newMessage": "New message from {name}: {text}",

	"sounds.toggle": "Sounds",

	"shortcut.hint": "{label} ({keys})",

	"call.reconnecting": "Reconnecting…",
	"call.reconnected": "Reconnected",
	"call.goingHome": "Back to the start page in {seconds} s",
};
