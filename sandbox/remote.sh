#!/usr/bin/env bash
# sandbox/remote.sh up|down|uri: a "laptop" for the qemu+ssh e2e test
# (e2e/remote_test.go), on this one machine.
#
#   up    creates the network namespace $LABCTL_CLIENT_NETNS (default
#         labctl-client), joined to the sandbox namespace by a veth pair on
#         a /30 (sandbox side .1, client side .2) and with no other route,
#         so the lab's VMs are unreachable from it; and starts an sshd inside
#         the sandbox namespace, listening only on the veth address, root
#         login with a key made for the test, no passwords. Keys, config,
#         pid, log and the URI (file uri) live in $LABCTL_REMOTE_DIR
#         (default /run/labctl-remote).
#         Idempotent: reuses what exists.
#   down  stops that sshd (by its pid file), removes the veth pair, the
#         client namespace and the directory. Idempotent.
#   uri   prints the libvirt URI for labctl run in the client namespace.
#
# Run it as root in the host's namespaces (not under sandbox/run.sh: a
# namespace added there would live in run.sh's private mount namespace).
set -euo pipefail

NS=${LABCTL_NETNS:-labctl-sandbox}
CLIENT_NS=${LABCTL_CLIENT_NETNS:-labctl-client}
DIR=${LABCTL_REMOTE_DIR:-/run/labctl-remote}
NET=${LABCTL_REMOTE_NET:-192.168.254.0} # the /30: no lab network uses it
SERVER_IP=${NET%.*}.$((${NET##*.} + 1))
CLIENT_IP=${NET%.*}.$((${NET##*.} + 2))
VETH_SERVER=lcremote-srv # in $NS
VETH_CLIENT=lcremote-cli # in $CLIENT_NS
SSHD=${LABCTL_SSHD:-/usr/sbin/sshd}

log() { printf 'remote: %s\n' "$*" >&2; }
die() { printf 'remote: %s\n' "$*" >&2; exit 1; }
has_ns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

uri() {
	printf 'qemu+ssh://root@%s/system?keyfile=%s/client_ed25519&known_hosts=%s/known_hosts\n' "$SERVER_IP" "$DIR" "$DIR"
}

# sshd_pid prints the pid of our sshd if it runs (in $NS, from our config).
sshd_pid() {
	local pid
	[ -f "$DIR/sshd.pid" ] || return 0
	pid=$(cat "$DIR/sshd.pid")
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-f $DIR/sshd_config" || return 0
	[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$NS")" ] || return 0
	echo "$pid"
}

up() {
	has_ns "$NS" || die "sandbox namespace $NS missing: run sandbox/setup.sh first"
	[ -x "$SSHD" ] || die "no sshd at $SSHD: run sandbox/setup.sh (installs openssh-server)"
	[ -z "${LABCTL_SANDBOX:-}" ] || die "run remote.sh in the host's namespaces, not under sandbox/run.sh"

	# The client namespace and the veth pair.
	if ! has_ns "$CLIENT_NS"; then
		log "creating network namespace $CLIENT_NS"
		ip netns add "$CLIENT_NS"
	fi
	ip -n "$CLIENT_NS" link set lo up
	if ! ip -n "$NS" link show "$VETH_SERVER" >/dev/null 2>&1; then
		ip -n "$CLIENT_NS" link del "$VETH_CLIENT" 2>/dev/null || true # orphan of a half-done up
		log "veth $VETH_SERVER ($NS, $SERVER_IP) <-> $VETH_CLIENT ($CLIENT_NS, $CLIENT_IP)"
		ip link add "$VETH_SERVER" netns "$NS" type veth peer name "$VETH_CLIENT" netns "$CLIENT_NS"
	fi
	ip -n "$NS" addr replace "$SERVER_IP/30" dev "$VETH_SERVER"
	ip -n "$CLIENT_NS" addr replace "$CLIENT_IP/30" dev "$VETH_CLIENT"
	ip -n "$NS" link set "$VETH_SERVER" up
	ip -n "$CLIENT_NS" link set "$VETH_CLIENT" up

	# Keys: sshd's host key, the test's login key, and the client's view.
	install -d -m 700 "$DIR"
	[ -f "$DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C labctl-remote-host -f "$DIR/ssh_host_ed25519_key"
	[ -f "$DIR/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C labctl-remote-client -f "$DIR/client_ed25519"
	install -m 600 "$DIR/client_ed25519.pub" "$DIR/authorized_keys"
	printf '%s %s\n' "$SERVER_IP" "$(cut -d' ' -f1,2 "$DIR/ssh_host_ed25519_key.pub")" >"$DIR/known_hosts"
	cat >"$DIR/sshd_config" <<EOF
# sandbox/remote.sh: the "libvirt server" sshd of the qemu+ssh e2e test.
ListenAddress $SERVER_IP:22
HostKey $DIR/ssh_host_ed25519_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys
PermitRootLogin prohibit-password
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding local
AllowStreamLocalForwarding local
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
LogLevel VERBOSE
EOF
	chmod 600 "$DIR/sshd_config"
	"$SSHD" -t -f "$DIR/sshd_config"
	install -d -m 755 /run/sshd # privilege separation directory

	if [ -z "$(sshd_pid)" ]; then
		log "starting sshd in $NS on $SERVER_IP:22"
		ip netns exec "$NS" "$SSHD" -f "$DIR/sshd_config" -E "$DIR/sshd.log"
	fi
	for _ in $(seq 1 50); do
		ip netns exec "$NS" ss -Hltn "sport = :22" | grep -qF "$SERVER_IP:22" && break
		sleep 0.1
	done
	ip netns exec "$NS" ss -Hltn "sport = :22" | grep -qF "$SERVER_IP:22" ||
		die "sshd does not listen on $SERVER_IP:22; see $DIR/sshd.log"
	uri >"$DIR/uri" # for e2e/remote_test.go
	log "ready: labctl in $CLIENT_NS reaches libvirt with -c '$(uri)'"
}

down() {
	local pid
	pid=$(sshd_pid)
	if [ -n "$pid" ]; then
		log "stopping sshd (pid $pid)"
		kill "$pid"
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	if has_ns "$NS" && ip -n "$NS" link show "$VETH_SERVER" >/dev/null 2>&1; then
		ip -n "$NS" link del "$VETH_SERVER" # takes its peer along
	fi
	if has_ns "$CLIENT_NS"; then
		log "deleting network namespace $CLIENT_NS"
		ip netns del "$CLIENT_NS"
	fi
	rm -rf "$DIR"
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
case "${1:-}" in
up) up ;;
down) down ;;
uri) uri ;;
*)
	echo "usage: sandbox/remote.sh up|down|uri" >&2
	exit 2
	;;
esac
