# want: 24:13 add it to nfs.www clients
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  nic "net" {}
}

vm "w" {
  nic "net" {}
}

nfs "www" {
  server = vm.s
  path   = "/srv/www"
  mount  = "/var/www/html"
}

web "site" {
  servers = [vm.w]
  content = nfs.www
}
