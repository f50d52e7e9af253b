import type { LucideProps } from "lucide-solid";
import AudioLines from "lucide-solid/icons/audio-lines";
import ChevronLeft from "lucide-solid/icons/chevron-left";
import ChevronRight from "lucide-solid/icons/chevron-right";
import Copy from "lucide-solid/icons/copy";
import Crown from "lucide-solid/icons/crown";
import Maximize2 from "lucide-solid/icons/maximize-2";
import Mic from "lucide-solid/icons/mic";
import MicOff from "lucide-solid/icons/mic-off";
import Minimize2 from "lucide-solid/icons/minimize-2";
import MonitorUp from "lucide-solid/icons/monitor-up";
import MonitorX from "lucide-solid/icons/monitor-x";
import PhoneOff from "lucide-solid/icons/phone-off";
import Settings from "lucide-solid/icons/settings";
import UserPlus from "lucide-solid/icons/user-plus";
import UserX from "lucide-solid/icons/user-x";
import Users from "lucide-solid/icons/users";
import Video from "lucide-solid/icons/video";
import VideoOff from "lucide-solid/icons/video-off";
import X from "lucide-solid/icons/x";
import type { JSX } from "solid-js";

/*
 * The one icon set: Lucide (ISC), bundled, so nothing is fetched at run time.
 * Icons are imported one file each so the bundle carries only these. They are
 * decoration: the button around each one carries the label, so every icon is
 * hidden from screen readers, and the `icon` class sizes them all alike.
 */
function icon(Component: (props: LucideProps) => JSX.Element): () => JSX.Element {
	return () => <Component class="icon" aria-hidden="true" />;
}

export const MicIcon = icon(Mic);
export const MicOffIcon = icon(MicOff);
export const CamIcon = icon(Video);
export const CamOffIcon = icon(VideoOff);
export const ScreenShareIcon = icon(MonitorUp);
export const ScreenShareStopIcon = icon(MonitorX);
export const DevicesIcon = icon(Settings);
export const LeaveIcon = icon(PhoneOff);
export const CloseIcon = icon(X);
export const UsersIcon = icon(Users);
export const UserPlusIcon = icon(UserPlus);
export const UserXIcon = icon(UserX);
export const CopyIcon = icon(Copy);
export const CrownIcon = icon(Crown);
export const EnlargeIcon = icon(Maximize2);
export const ShrinkIcon = icon(Minimize2);
export const FollowSpeakerIcon = icon(AudioLines);
export const PreviousPageIcon = icon(ChevronLeft);
export const NextPageIcon = icon(ChevronRight);
