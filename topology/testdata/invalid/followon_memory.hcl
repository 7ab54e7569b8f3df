# want: 11:12 memory needs a unit
# no other errors
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "d1" {
  memory = 512
  nic "net" {}
}

vm "d2" {
  nic "net" {}
}

vm "w1" {
  nic "net" {}
}

vm "w2" {
  nic "net" {}
}

vm "s" {
  nic "net" {}
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
  directors = [vm.d1, vm.d2]
  backends  = [vm.w1, vm.w2]
}

experiment "e" {
  service = lvs.www
  client  = vm.d1
}
