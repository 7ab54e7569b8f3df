#!/usr/bin/env bash
# realcheck.sh IMAGE.qcow2: check the golden role configs with the real tools
# of a labctl image (Debian 12, every role package installed), without VMs:
#   keepalived -t -f        every golden keepalived.conf (in a netns with eth0..eth2)
#   apache2ctl configtest   a golden site, then Apache + PHP serve it inside the
#                           netns; curl checks X-Backend, the page and the health URL
#   systemd-analyze verify  labctl-realserver.service, the apache2 drop-in
#   sh -n / php -l          every real-server script, index.php
#   DR/NAT real-server script and sysctls, run twice inside the netns
# Needs root. Touches nothing outside a temp dir and its own netns (no traffic
# leaves the namespace; the host kernel's state is not changed).
set -euo pipefail
IMG=${1:?usage: realcheck.sh IMAGE.qcow2}
G=$(cd "$(dirname "$0")/golden" && pwd)
W=$(mktemp -d /var/tmp/labctl-realcheck.XXXXXX)
NSN=labctl-realcheck-$$
R=$W/root
cleanup() {
	ip netns exec "$NSN" chroot "$R" apache2ctl stop >/dev/null 2>&1 || true
	sleep 1
	umount "$R/dev" "$R/proc" "$R" "$W/lower" 2>/dev/null || true
	ip netns del "$NSN" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
fail=0
# check LABEL CMD...: run CMD, print ok/FAIL with LABEL.
check() {
	local label=$1
	shift
	if "$@" >/dev/null 2>&1; then echo "ok    $label"; else echo "FAIL  $label"; fail=1; fi
}
rejects() { ! "$@"; }

mkdir -p "$W"/{lower,upper,work,root}
qemu-img convert -O raw "$IMG" "$W/disk.raw"
mount -o loop,ro,noload "$W/disk.raw" "$W/lower"
mount -t overlay overlay -o "lowerdir=$W/lower,upperdir=$W/upper,workdir=$W/work" "$R"
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
ip netns add "$NSN"
for i in 0 1 2; do ip -n "$NSN" link add "eth$i" type veth peer name "peer$i"; done
ip -n "$NSN" link set lo up
NS=(ip netns exec "$NSN")
echo "$(chroot "$R" keepalived --version 2>&1 | head -1), $(chroot "$R" apache2ctl -v | head -1)"

for f in $(find "$G" -name keepalived.conf | sort); do
	cp "$f" "$R/tmp/k.conf"
	check "keepalived -t ${f#$G/}" "${NS[@]}" chroot "$R" keepalived -t -f /tmp/k.conf
done
sed 's/lb_kind NAT/lb_kindd NAT/' "$G/labs/lvs-nat-ha/director-1/etc/keepalived/keepalived.conf" >"$R/tmp/bad.conf"
check "keepalived -t rejects an unknown keyword" rejects "${NS[@]}" chroot "$R" keepalived -t -f /tmp/bad.conf

L=$G/labs/lvs-nat-ha
cp "$L/web-1/etc/apache2/sites-available/labctl-site.conf" "$R/etc/apache2/sites-available/"
mkdir -p "$R/var/www/labctl-health/site" "$R/var/www/html" "$R/etc/systemd/system/apache2.service.d"
cp "$L/web-1/var/www/labctl-health/site/health.html" "$R/var/www/labctl-health/site/"
cp "$L/storage/srv/raid/www/index.php" "$R/var/www/html/index.php"
cp "$L/web-1/etc/systemd/system/apache2.service.d/labctl.conf" "$R/etc/systemd/system/apache2.service.d/"
chroot "$R" sh -c 'a2enmod -q headers env alias; ln -s ../sites-available/labctl-site.conf /etc/apache2/sites-enabled/; rm -f /etc/apache2/sites-enabled/000-default.conf; mkdir -p /run/apache2 /var/lock/apache2'
check "apache2ctl configtest (lvs-nat-ha web-1 site)" "${NS[@]}" chroot "$R" apache2ctl configtest
check "php -l index.php" chroot "$R" php -l /var/www/html/index.php
check "systemd-analyze verify apache2.service + labctl drop-in" chroot "$R" systemd-analyze verify apache2.service
"${NS[@]}" chroot "$R" apache2ctl start 2>/dev/null
sleep 1
out=$("${NS[@]}" chroot "$R" sh -c "for i in 1 2 3; do curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{x-backend}\n' http://127.0.0.1:80/; done")
check "verify's curl probe reads X-Backend: web-1" test "$out" = "$(printf '200 web-1\n200 web-1\n200 web-1')"
check "index.php names web-1 and 10.0.10.110" "${NS[@]}" sh -c "curl -s http://127.0.0.1/ | grep -q '<b id=\"backend\">web-1</b> (<span id=\"ip\">10.0.10.110</span>)'"
check "health URL served from local disk" test "$("${NS[@]}" curl -s http://127.0.0.1/health.html)" = "ok web-1"

for f in $(find "$G" -name labctl-realserver | sort); do check "sh -n ${f#$G/}" sh -n "$f"; done
cp "$G/labs/lvs-tun/web-1/usr/local/sbin/labctl-realserver" "$R/usr/local/sbin/"
chmod 755 "$R/usr/local/sbin/labctl-realserver"
cp "$G/labs/lvs-tun/web-1/etc/systemd/system/labctl-realserver.service" "$R/etc/systemd/system/"
check "systemd-analyze verify labctl-realserver.service" chroot "$R" systemd-analyze verify /etc/systemd/system/labctl-realserver.service

D=$G/labs/lvs-dr/web-1
check "DR sysctls load" "${NS[@]}" sysctl -q -p "$D/etc/sysctl.d/60-labctl-realserver.conf"
check "DR real-server script" "${NS[@]}" sh "$D/usr/local/sbin/labctl-realserver"
check "DR real-server script again (idempotent)" "${NS[@]}" sh "$D/usr/local/sbin/labctl-realserver"
check "DR VIP/32 on lo" "${NS[@]}" sh -c "ip -4 -o addr show dev lo | grep -q ' 192.168.110.200/32 '"
ip -n "$NSN" addr add 10.0.10.110/24 dev eth0
ip -n "$NSN" link set peer0 up
ip -n "$NSN" link set eth0 up
check "NAT real-server script" "${NS[@]}" sh "$L/web-1/usr/local/sbin/labctl-realserver"
check "NAT default route via gateway VIP" "${NS[@]}" sh -c "ip -4 route show default | grep -q '^default via 10.0.10.200 dev eth0'"
exit $fail
