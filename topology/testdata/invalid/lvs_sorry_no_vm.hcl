# want: 25:18 sorry_server 10.1.0.50 is inside network "net"
# want: 33:18 it is the address of lvs "b" (vip), not of a VM
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "d" {
  nic "net" {}
}

vm "w" {
  nic "net" {
    ip = "10.1.0.20"
  }
}

lvs "a" {
  vip          = "10.1.0.200"
  mode         = "dr"
  directors    = [vm.d]
  backends     = [vm.w]
  sorry_server = "10.1.0.50:80"
}

lvs "b" {
  vip          = "10.1.0.201"
  mode         = "dr"
  directors    = [vm.d]
  backends     = [vm.w]
  sorry_server = "10.1.0.201:80"
}

# A VM's address, and one outside the lab networks, are fine.
lvs "c" {
  vip          = "10.1.0.202"
  mode         = "dr"
  directors    = [vm.d]
  backends     = [vm.w]
  sorry_server = "10.1.0.20:80"
}

lvs "d" {
  vip          = "10.1.0.203"
  mode         = "dr"
  directors    = [vm.d]
  backends     = [vm.w]
  sorry_server = "192.0.2.10:80"
}
