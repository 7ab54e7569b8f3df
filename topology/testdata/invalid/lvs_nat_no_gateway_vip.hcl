# want: 23:1 LVS-NAT needs gateway_vip
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

network "int" {
  mode = "isolated"
  cidr = "10.2.0.0/24"
}

vm "d" {
  nic "net" {}
  nic "int" {}
}

vm "w" {
  nic "int" {}
}

lvs "s" {
  vip       = "10.1.0.200"
  directors = [vm.d]
  backends  = [vm.w]
}
