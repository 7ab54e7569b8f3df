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
