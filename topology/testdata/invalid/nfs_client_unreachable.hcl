# want: 25:13 has no NIC on a network of nfs server "s"
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

network "int" {
  mode = "isolated"
  cidr = "10.2.0.0/24"
}

vm "s" {
  nic "net" {}
}

vm "c" {
  nic "int" {}
}

nfs "www" {
  server  = vm.s
  path    = "/srv/www"
  clients = [vm.c]
}
