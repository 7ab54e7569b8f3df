# want: 17:11 larger than the mtu of network "lan", 1400
# want: 20:11 network "tun"'s default MTU
lab "t" {}

network "lan" {
  mode = "nat"
  cidr = "10.1.0.0/24"
  mtu  = 1400
}

network "tun" {
  cidr = "10.2.0.0/24"
}

vm "a" {
  nic "lan" {
    mtu = 9000
  }
  nic "tun" {
    mtu = 1600
  }
}
