# want: 15:12 pick one, e.g. vm.w[0]
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "w" {
  count = 2
  nic "net" {}
}

nfs "x" {
  server = vm.w
  path   = "/srv/x"
}
