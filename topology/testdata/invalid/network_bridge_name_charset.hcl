# want: 7:12 must be a Linux interface name
lab "t" {}

network "lan" {
  mode   = "bridge"
  cidr   = "10.1.0.0/24"
  bridge = "br0; reboot"
}
