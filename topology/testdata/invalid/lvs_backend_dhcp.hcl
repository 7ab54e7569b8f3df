# want: 24:15 the directors need a fixed real server address
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
  dhcp = true
}

vm "d" {
  nic "net" {
    ip = "10.1.0.5"
  }
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
