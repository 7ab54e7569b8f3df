# want: 10:10 Invalid CIDR
# no other errors
lab "t" {}

locals {
  internal = "10.0.10.0/33"
}

network "internal" {
  cidr = local.internal
}

vm "s" {
  nic "internal" {
    ip = cidrhost(network.internal.cidr, 100)
  }
}

vm "w" {
  nic "internal" {}
}

nfs "www" {
  server  = vm.s
  path    = "/srv/www"
  allow   = network.internal.cidr
  clients = [vm.w]
}

network "external" {
  mode = "nat"
  cidr = "192.168.100.0/24"
}

vm "d" {
  nic "external" {}
  nic "internal" {
    ip = cidrhost(network.internal.cidr, 1)
  }
}

vm "c" {
  nic "external" {}
}

lvs "www" {
  vip         = cidrhost(network.external.cidr, 200)
  gateway_vip = cidrhost(network.internal.cidr, 200)
  directors   = [vm.d]
  backends    = [vm.w]
}

experiment "e" {
  service = lvs.www
  client  = vm.c
}
