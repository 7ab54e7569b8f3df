# want: 20:1 Cycle in references
# no other errors
# w1 and w2 take each other's address: the cycle is the only error, the
# lists that name them are fine.
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "d1" {
  nic "net" {}
}

vm "s" {
  nic "net" {}
}

vm "w1" {
  nic "net" {
    ip = cidrhost("10.1.0.0/24", 1 + split(".", vm.w2.ips.net)[3])
  }
}

vm "w2" {
  nic "net" {
    ip = cidrhost("10.1.0.0/24", 1 + split(".", vm.w1.ips.net)[3])
  }
}

nfs "www" {
  server  = vm.s
  path    = "/srv/www"
  clients = [vm.w1, vm.w2]
}

web "site" {
  servers = [vm.w1, vm.w2]
  content = nfs.www
  docroot = "/srv/www"
}

lvs "www" {
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = [vm.d1]
  backends  = [vm.w1, vm.w2]
  weights   = { w1 = 2 }
}

experiment "e" {
  service      = lvs.www
  client       = vm.d1
  real_servers = [2]
}
