# want: 15:15 Did you mean "nat"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "d" {
  nic "net" {}
}

lvs "s" {
  vip       = "10.1.0.200"
  mode      = "nta"
  directors = [vm.d]
  backends  = [vm.d]
}
