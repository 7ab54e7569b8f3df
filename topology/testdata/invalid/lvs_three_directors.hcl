# want: 21:15 1 director or 2
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "d" {
  count = 3
  nic "net" {}
}

vm "w" {
  nic "net" {}
}

lvs "s" {
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = vm.d[*]
  backends  = [vm.w]
}
