# want: 22:18 sorry_server must be an IPv4 address
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "d" {
  nic "net" {}
}

vm "w" {
  nic "net" {}
}

lvs "s" {
  vip          = "10.1.0.200"
  mode         = "dr"
  directors    = [vm.d]
  backends     = [vm.w]
  sorry_server = "[2001:db8::1]:80"
}
