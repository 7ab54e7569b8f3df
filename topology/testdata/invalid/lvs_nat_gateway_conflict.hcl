# want: 21:15 its default gateway must be gateway_vip 10.2.0.254
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
  nic "int" {
    gateway = "10.2.0.1"
  }
}

lvs "s" {
  vip         = "10.1.0.200"
  gateway_vip = "10.2.0.254"
  directors   = [vm.d]
  backends    = [vm.w]
}
