# want: 20:15 Did you mean "rr"?
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
  vip       = "10.1.0.200"
  mode      = "dr"
  scheduler = "rrr"
  directors = [vm.d]
  backends  = [vm.w]
}
