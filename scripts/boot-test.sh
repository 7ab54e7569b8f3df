#!/bin/bash
# boot-test.sh — boot a labctl image under QEMU TCG with direct kernel boot
# and a NoCloud seed, inside a private network namespace, and measure the
# time from QEMU start to a successful SSH login (host key pinned).
#
# Usage: scripts/boot-test.sh IMAGE_DIR
#   IMAGE_DIR   a store entry, e.g. /var/lib/labctl/images/bookworm-cloud
# Environment (all optional):
#   CPU=max               QEMU -cpu model (default: QEMU's default)
#   MACHINE=pc            QEMU machine type
#   MEM=1024 SMP=1        guest memory (MiB) and vCPUs
#   CMDLINE="..."         kernel command line (default: the manifest's cmdline)
#   EXTRA_CMDLINE="..."   appended to the command line
#   FIRSTBOOT=none        boot with cloud-init even if the image has labctl's
#                         first-boot path (default: the manifest's "firstboot")
#   PORT=2222             host port (inside the namespace) forwarded to guest :22
#   KEEP=1                keep the work dir (console log, overlay)
#   DEBUG=1               print boot diagnostics from the guest
# Needs: qemu-system-x86_64, qemu-img, genisoimage, ssh, ssh-keygen, jq-free.
# Prints "boot-to-ssh: N.N s" on success; exit status 1 on timeout.
set -euo pipefail

IMG=${1:?usage: $0 IMAGE_DIR}
IMG=$(cd "$IMG" && pwd)
NS=labctl-imgtest
PORT=${PORT:-2222}
MEM=${MEM:-1024}
SMP=${SMP:-1}
MACHINE=${MACHINE:-pc}
TIMEOUT=${TIMEOUT:-240}
MAC=52:54:00:12:34:56

for t in qemu-system-x86_64 qemu-img genisoimage ssh ssh-keygen ip python3; do
	command -v "$t" >/dev/null || { echo "boot-test: missing $t" >&2; exit 2; }
done

manifest() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]) or "")' "$IMG/manifest.json" "$1"; }
KERNEL=$(manifest kernel)
[ -n "$KERNEL" ] || { echo "boot-test: $IMG boots from disk (imported); this script tests direct kernel boot" >&2; exit 2; }
CMDLINE=${CMDLINE:-$(manifest cmdline)}
[ -z "${EXTRA_CMDLINE:-}" ] || CMDLINE="$CMDLINE $EXTRA_CMDLINE"
# As labctl up does: an image with labctl's first boot boots without cloud-init.
FIRSTBOOT=${FIRSTBOOT:-$(manifest firstboot)}
[ "$FIRSTBOOT" != labctl-1 ] || CMDLINE="$CMDLINE cloud-init=disabled"

WORK=$(mktemp -d /var/tmp/labctl-boottest.XXXXXX)
QPID=
created_ns=
cleanup() {
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then kill "$QPID"; wait "$QPID" 2>/dev/null || true; fi
	if [ -n "$created_ns" ]; then ip netns del "$NS" 2>/dev/null || true; fi
	if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "boot-test: kept $WORK" >&2; fi
}
trap cleanup EXIT

# Private namespace: QEMU's user-mode network and SSH never touch the host's.
if ! ip netns list | grep -qw "$NS"; then
	ip netns add "$NS"
	created_ns=1
fi
ip netns exec "$NS" ip link set lo up

# Keys: a client key for login and a host key we inject and pin.
ssh-keygen -q -t ed25519 -N '' -C labctl-boottest -f "$WORK/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C host -f "$WORK/host_ed25519"
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1-2 "$WORK/host_ed25519.pub")" >"$WORK/known_hosts"

mkdir "$WORK/seed"
ID=boottest-$(date +%s)
cat >"$WORK/seed/meta-data" <<META
instance-id: $ID
local-hostname: boottest
META
{
	echo '#cloud-config'
	echo 'hostname: boottest'
	echo 'users:'
	echo '  - name: labctl'
	echo '    shell: /bin/bash'
	echo '    lock_passwd: true'
	echo '    sudo: "ALL=(ALL) NOPASSWD:ALL"'
	echo '    ssh_authorized_keys:'
	echo "      - $(cat "$WORK/id_ed25519.pub")"
	echo 'ssh_pwauth: false'
	echo 'ssh_deletekeys: true'
	echo 'ssh_genkeytypes: []'
	echo 'ssh_keys:'
	echo '  ed25519_private: |'
	sed 's/^/    /' "$WORK/host_ed25519"
	echo "  ed25519_public: $(cut -d' ' -f1-2 "$WORK/host_ed25519.pub")"
} >"$WORK/seed/user-data"
# Static address in QEMU's user-mode subnet, NIC matched by MAC and renamed,
# as labctl's own network-config does.
cat >"$WORK/seed/network-config" <<NET
version: 2
ethernets:
  lab0:
    match:
      macaddress: "$MAC"
    set-name: lab0
    addresses: [10.0.2.15/24]
    routes:
      - to: 0.0.0.0/0
        via: 10.0.2.2
NET
# The same seed as labctl's first-boot script reads it (provision/cloudinit/labctl.go).
L=$WORK/seed/labctl
mkdir "$L"
echo "$ID" >"$L/instance"
echo boottest >"$L/hostname"
echo labctl >"$L/user"
cp "$WORK/id_ed25519.pub" "$L/authkeys"
cp "$WORK/host_ed25519" "$L/hostkey"
cut -d' ' -f1-2 "$WORK/host_ed25519.pub" >"$L/hostkey.pub"
printf '[Match]\nMACAddress=%s\n\n[Link]\nName=lab0\n' "$MAC" >"$L/nic00.link"
printf '[Match]\nMACAddress=%s\nName=lab0\n\n[Network]\nDHCP=no\nIPv6AcceptRA=no\nAddress=10.0.2.15/24\n\n[Route]\nGateway=10.0.2.2\n' "$MAC" >"$L/nic00.network"
genisoimage -quiet -output "$WORK/seed.iso" -volid cidata -joliet -rock -graft-points \
	"$WORK/seed/user-data" "$WORK/seed/meta-data" "$WORK/seed/network-config" labctl/="$L"

# Linked clone: the image itself is never written.
qemu-img create -q -f qcow2 -F qcow2 -b "$IMG/$(manifest disk)" "$WORK/vm.qcow2"

CPUARG=()
[ -z "${CPU:-}" ] || CPUARG=(-cpu "$CPU")
echo "boot-test: image $IMG" >&2
echo "boot-test: cmdline: $CMDLINE" >&2
echo "boot-test: qemu -machine $MACHINE,accel=tcg ${CPUARG[*]} -m $MEM -smp $SMP" >&2

START=$(date +%s.%N)
ip netns exec "$NS" qemu-system-x86_64 \
	-machine "$MACHINE",accel=tcg "${CPUARG[@]}" -m "$MEM" -smp "$SMP" \
	-nodefaults -display none -no-reboot \
	-kernel "$IMG/$KERNEL" -initrd "$IMG/$(manifest initrd)" -append "$CMDLINE" \
	-drive file="$WORK/vm.qcow2",if=virtio,format=qcow2 \
	-drive file="$WORK/seed.iso",if=virtio,format=raw,readonly=on \
	-netdev user,id=n0,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:"$PORT"-10.0.2.15:22 \
	-device virtio-net-pci,netdev=n0,mac="$MAC" \
	-device virtio-rng-pci \
	-serial file:"$WORK/console.log" &
QPID=$!

SSH=(ip netns exec "$NS" ssh -q -i "$WORK/id_ed25519" -p "$PORT"
	-o UserKnownHostsFile="$WORK/known_hosts" -o StrictHostKeyChecking=yes
	-o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=3 -o BatchMode=yes labctl@127.0.0.1)
ok=
while :; do
	NOW=$(date +%s.%N)
	if python3 -c "import sys; sys.exit(0 if $NOW-$START > $TIMEOUT else 1)"; then break; fi
	kill -0 "$QPID" 2>/dev/null || { echo "boot-test: qemu exited" >&2; break; }
	if "${SSH[@]}" true 2>/dev/null; then ok=1; break; fi
	sleep 0.5
done
END=$(date +%s.%N)
# QEMU's CPU time is a load-independent companion to the wall time: the
# machine running this may be shared.
CPUSEC=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14+$15)/hz}' /proc/"$QPID"/stat 2>/dev/null || echo "?")
if [ -z "$ok" ]; then
	echo "boot-test: no SSH within ${TIMEOUT}s; console tail:" >&2
	tail -40 "$WORK/console.log" >&2
	KEEP=1
	exit 1
fi
python3 -c "print('boot-to-ssh: %.1f s wall, qemu cpu %s s, host load %s' % ($END-$START, '$CPUSEC', '$(cut -d' ' -f1 /proc/loadavg)'))"

# Checks on the booted guest: renamed NIC, fresh machine-id, host key we
# injected (already proven by the pinned login), no failed units.
for _ in 1 2 3; do "${SSH[@]}" true && break; sleep 2; done
"${SSH[@]}" 'set -e
echo "guest: $(uname -r) $(hostname)"
echo "guest: nic $(ip -br addr show lab0)"
echo "guest: machine-id $(cat /etc/machine-id)"
echo "guest: host keys: $(ls /etc/ssh/ssh_host_*_key | tr "\n" " ")"
echo "guest: failed units: $(sudo systemctl --failed --no-legend --plain | awk "{print \$1}" | tr "\n" " ")"
echo "guest: labctl-firstboot: $(systemctl is-active labctl-firstboot.service) $(ls /run/labctl/booted 2>/dev/null)"
echo "guest: cloud-init: $(sudo cloud-init status --wait 2>/dev/null | tail -1) datasource $(sudo cat /run/cloud-init/.ds-identify.result 2>/dev/null | head -1)"
echo "guest: renderer: $(sudo grep -hoiE "(selected|chose)[^,]*renderer[^,]*" /var/log/cloud-init.log | tail -1)"
echo "guest: $(sudo systemd-analyze 2>/dev/null | head -1)"
echo "guest: cloud-init schema: $(sudo cloud-init schema --system 2>&1 | tail -3 | tr "\n" " ")"
' || echo "boot-test: guest checks failed" >&2
if [ -n "${DEBUG:-}" ]; then
	"${SSH[@]}" 'sudo systemd-analyze blame | head -25; sudo systemd-analyze critical-chain ssh.service; sudo cloud-init analyze show 2>/dev/null | grep -E "Finished stage|Total Time"; sudo cloud-init analyze blame 2>/dev/null | head -12; python3 -X importtime -c "import cloudinit.cmd.main" 2>&1 | sort -t"|" -k2 -n | tail -5' || true
fi
"${SSH[@]}" 'sudo systemctl poweroff' 2>/dev/null || true
for _ in $(seq 60); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.5; done
