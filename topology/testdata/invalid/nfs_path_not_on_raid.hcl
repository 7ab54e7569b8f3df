# want: 21:12 outside it, so the array would protect nothing
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  nic "net" {}
  raid "data" {
    level       = 1
    members     = 2
    member_size = "100MiB"
    mount       = "/srv/raid"
  }
}

nfs "www" {
  server = vm.s
  path   = "/nfs/www"
}
