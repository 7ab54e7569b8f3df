# want: 21:13 inside the system directory /etc
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  nic "net" {}
}

vm "c" {
  nic "net" {}
}

nfs "x" {
  server  = vm.s
  path    = "/srv/x"
  clients = [vm.c]
  mount   = "/etc"
}
