#!/usr/bin/env bash
# sandbox/setup.sh: prepare this (Debian 12, root, no systemd) machine for
# labctl's end-to-end tests. Idempotent: safe to run again at any time.
#
#   1. installs QEMU, libvirt, qemu-img, debootstrap, dnsmasq, openssh-server
#      (apt, once; no package's daemon is started);
#   2. creates the network namespace $LABCTL_NETNS (default labctl-sandbox)
#      with lo up, so every lab network, VM and packet stays inside it;
#   3. starts virtlogd and libvirtd inside that namespace (reusing them when
#      they already run; --restart restarts libvirtd) and waits for its socket.
#
# Run labctl inside the namespace with sandbox/run.sh.
set -euo pipefail

NS=${LABCTL_NETNS:-labctl-sandbox}
SOCK=/var/run/libvirt/libvirt-sock
PKGS=(qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients
      debootstrap dnsmasq-base iptables iproute2 procps e2fsprogs
      apache2-utils siege genisoimage   # ab and siege: bench parser tests; genisoimage: scripts/boot-test.sh
      openssh-server)                   # sshd for sandbox/remote.sh (qemu+ssh e2e); never started as a service

log() { printf 'sandbox: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	echo "sandbox/setup.sh must run as root" >&2
	exit 1
fi

# 1. packages, only those missing (apt-get update only when something is).
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# Packages must not start their daemons (openssh-server would listen on
	# the host's network): a policy-rc.d that denies every start, for the
	# install only, unless the machine has its own.
	own_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		own_policy=1
		printf '#!/bin/sh\n# sandbox/setup.sh: no daemon starts during package installs\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
	fi
	rc=0
	apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
	[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
	[ "$rc" -eq 0 ] || exit "$rc"
fi

# 2. the namespace.
if ! ip netns list | awk '{print $1}' | grep -qx "$NS"; then
	log "creating network namespace $NS"
	ip netns add "$NS"
fi
ip netns exec "$NS" ip link set lo up
# With br_netfilter loaded, bridged frames traverse iptables, so libvirt's
# masquerade rule for a nat network rewrites director → real-server packets
# on the isolated bridges and LVS-NAT answers nothing. Libvirt hosts normally
# keep these at 0; the sysctls are per namespace, so set them in ours only.
for t in iptables ip6tables arptables; do
	f=/proc/sys/net/bridge/bridge-nf-call-$t
	ip netns exec "$NS" sh -c "[ ! -w $f ] || echo 0 > $f"
done

# in_ns PID: true when the process lives in namespace $NS.
ns_inode=$(stat -L -c %i "/run/netns/$NS")
in_ns() { [ "$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null)" = "$ns_inode" ]; }

# A daemon of the same name outside the namespace would own the shared socket
# paths: refuse rather than silently talk to the wrong one.
check_daemon() { # NAME → prints "ours" | "none", fails on a foreign one
	local name=$1 pid state=none
	for pid in $(pgrep -x "$name" || true); do
		if in_ns "$pid"; then state=ours; else
			echo "sandbox: $name (pid $pid) runs outside namespace $NS; stop it first (kill $pid)" >&2
			return 1
		fi
	done
	echo "$state"
}

# 3. daemons.
mkdir -p /var/run/libvirt /var/log/libvirt/qemu /var/lib/libvirt/images
if [ "$(check_daemon virtlogd)" = none ]; then
	log "starting virtlogd in $NS"
	ip netns exec "$NS" virtlogd -d
fi
# On a kvm_pvm host /dev/kvm opens but cannot run a stock guest, and libvirt
# 9 flips between "KVM usable" (its QEMU probe) and "not usable" (its access
# check as libvirt-qemu), discarding its QEMU capabilities cache on every
# call and re-probing QEMU for seconds each time: domain defines stall for
# minutes. Labs run under TCG there anyway, so libvirtd gets a /dev/kvm that
# nobody can open, in its own mount namespace only (ip netns exec already
# gives it one; the bind mount does not reach the host).
hide_kvm=0
[ -e /sys/module/kvm_pvm ] && [ -c /dev/kvm ] && hide_kvm=1

libvirtd_pid() {
	for pid in $(pgrep -x libvirtd || true); do
		in_ns "$pid" && { echo "$pid"; return; }
	done
}

if [ "${1:-}" = "--restart" ] && [ -n "$(libvirtd_pid)" ]; then
	pid=$(libvirtd_pid)
	log "restarting libvirtd (pid $pid); running domains keep running"
	kill "$pid"
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
fi

if [ "$(check_daemon libvirtd)" = none ]; then
	rm -f "$SOCK" # stale socket from a dead daemon
	log "starting libvirtd in $NS"
	if [ "$hide_kvm" = 1 ]; then
		# QEMU must then share libvirtd's mount namespace: libvirt cannot move a
		# bind mount on /dev/kvm into a per-domain /dev.
		if ! grep -q '^namespaces' /etc/libvirt/qemu.conf; then
			printf '\n# labctl sandbox: no per-domain /dev (see sandbox/setup.sh)\nnamespaces = []\n' >>/etc/libvirt/qemu.conf
		fi
		install -m 000 /dev/null /run/labctl-sandbox-nokvm
		ip netns exec "$NS" sh -c 'mount --bind /run/labctl-sandbox-nokvm /dev/kvm && exec libvirtd -d'
	else
		ip netns exec "$NS" libvirtd -d
	fi
fi
for _ in $(seq 1 100); do
	if [ -S "$SOCK" ] && ip netns exec "$NS" virsh -c qemu:///system version >/dev/null 2>&1; then
		break
	fi
	sleep 0.2
done
if ! ip netns exec "$NS" virsh -c qemu:///system version >/dev/null 2>&1; then
	echo "sandbox: libvirtd did not come up; see /var/log/libvirt/libvirtd.log" >&2
	exit 1
fi

# libvirt's packaged "default" network would take 192.168.122.0/24 inside the
# namespace and is not needed by labs: keep it from autostarting.
if ip netns exec "$NS" virsh -q net-list --all --name | grep -qx default; then
	ip netns exec "$NS" virsh -q net-autostart default --disable >/dev/null 2>&1 || true
fi

# libvirt probes QEMU's capabilities on first use (minutes under TCG on a
# busy host); do it now, once: the result is cached in /var/cache/libvirt.
ip netns exec "$NS" virsh -q -c qemu:///system domcapabilities --virttype qemu --arch x86_64 >/dev/null

pid=$(libvirtd_pid)
if [ "$hide_kvm" = 1 ] && [ -n "$pid" ] && [ -c "/proc/$pid/root/dev/kvm" ]; then
	log "warning: libvirtd (pid $pid) sees the kvm_pvm /dev/kvm and will keep re-probing QEMU; run: sandbox/setup.sh --restart"
fi

log "ready: namespace $NS, libvirtd $(ip netns exec "$NS" virsh -c qemu:///system version --daemon | awk '/daemon/ {print $NF}')"
log "run commands inside it with: sandbox/run.sh CMD..."
