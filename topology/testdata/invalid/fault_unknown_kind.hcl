# want: 26:9 Did you mean "destroy_vm"?
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
  directors = [vm.d]
  backends  = [vm.w]
}

experiment "e" {
  service = lvs.s
  fault "destroy_mv" {
    target = vm.w
  }
}
