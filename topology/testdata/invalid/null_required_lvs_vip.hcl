# want: 18:15 vip is required and must not be null
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
  vip       = null
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}
