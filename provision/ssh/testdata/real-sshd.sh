#!/bin/sh
# Runs TestRealSSHD against Debian 12's OpenSSH sshd and sudo without
# installing them or touching the host: both are extracted from their
# .debs, and the test runs in private mount + network namespaces where
# /etc and /usr are copy-on-write overlays that get an "sshd" privsep user,
# a non-root login user "labctl" with cloud-init's sudo rule, and sudo.
# Usage (as root, from the repo root): provision/ssh/testdata/real-sshd.sh
set -eu
work=${WORK:-/tmp/labctl-real-sshd}
mkdir -p "$work"
if [ ! -x "$work/root/usr/sbin/sshd" ] || [ ! -u "$work/root/usr/bin/sudo" ]; then
	(cd "$work" && apt-get download openssh-server libwrap0 sudo && for d in *.deb; do dpkg-deb -x "$d" root; done)
fi
go test -c -o "$work/ssh.test" ./provision/ssh
exec unshare -m -n sh -eu -c '
work=$1
ip link set lo up
mount --make-rprivate /
for d in etc usr; do
	rm -rf "$work/$d-up" "$work/$d-wk" && mkdir -p "$work/$d-up" "$work/$d-wk"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$work/$d-up,workdir=$work/$d-wk" "/$d"
done
mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd
home=$work/home/labctl
rm -rf "$work/home" && mkdir -p "$home/.ssh"
echo "sshd:x:4241:65534::/run/sshd:/usr/sbin/nologin" >>/etc/passwd
echo "labctl:x:4242:4242::$home:/bin/sh" >>/etc/passwd
echo "labctl:x:4242:" >>/etc/group
echo "labctl:*:19000:0:99999:7:::" >>/etc/shadow
chown -R labctl:labctl "$work/home"
chmod 755 "$work" "$work/home"
cp -a "$work/root/usr/bin/sudo" /usr/bin/sudo
mkdir -p /usr/libexec/sudo && cp -a "$work/root/usr/libexec/sudo/." /usr/libexec/sudo/
cp "$work/root/etc/sudoers" /etc/sudoers && chmod 0440 /etc/sudoers
mkdir -p /etc/sudoers.d
echo "labctl ALL=(ALL) NOPASSWD:ALL" >/etc/sudoers.d/90-cloud-init-users
chmod 0440 /etc/sudoers.d/90-cloud-init-users
LD_LIBRARY_PATH=$work/root/usr/lib/x86_64-linux-gnu \
LABCTL_SSHD=$work/root/usr/sbin/sshd LABCTL_SSHD_USER=labctl LABCTL_SSHD_HOME=$home LABCTL_SSHD_SUDO=1 \
	"$work/ssh.test" -test.run TestRealSSHD -test.v
' sh "$work"
