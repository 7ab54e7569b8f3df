# want: 23:15 Did you mean "w-1"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "d" {
  nic "net" {}
}

vm "w" {
  count = 2
  nic "net" {}
}

lvs "s" {
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = [vm.d]
  backends  = vm.w[*]
  weights   = { "w1" = 3 }
}
