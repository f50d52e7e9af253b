/*
 * LD_PRELOAD shim for the fan-out benchmark's Janus: libnice skips
 * interfaces flagged IFF_LOOPBACK when gathering host candidates, and the
 * benchmark keeps everything on 127.0.0.1. This clears the flag in what
 * getifaddrs() returns (Janus's ice_enforce_list = "lo" then picks lo).
 * Built at bench time into ~/.cache/mindmeet/bench/ (see janus.ts).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stddef.h>

int getifaddrs(struct ifaddrs **ifap) {
	static int (*real_getifaddrs)(struct ifaddrs **) = NULL;
	if (real_getifaddrs == NULL) real_getifaddrs = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
	if (real_getifaddrs == NULL) return -1;
	int result = real_getifaddrs(ifap);
	if (result == 0) {
		for (struct ifaddrs *entry = *ifap; entry != NULL; entry = entry->ifa_next) entry->ifa_flags &= ~IFF_LOOPBACK;
	}
	return result;
}
