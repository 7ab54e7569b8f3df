# want: 26:15 must share the L2 network "net"
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
}

vm "w" {
  nic "int" {}
}

lvs "s" {
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}
