# want: 31:15 shares no network with the directors
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

network "int" {
  mode = "isolated"
  cidr = "10.2.0.0/24"
}

network "iso" {
  cidr = "10.3.0.0/24"
}

vm "d" {
  nic "int" {}
  nic "net" {}
}

vm "w" {
  nic "iso" {}
}

lvs "s" {
  vip       = "10.1.0.200"
  mode      = "tun"
  directors = [vm.d]
  backends  = [vm.w]
}
