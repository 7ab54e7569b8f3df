# want: 16:14 clients[0] is null
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  nic "net" {}
}

nfs "www" {
  server  = vm.s
  path    = "/srv/www"
  clients = [true ? null : vm.s]
}
