# want: 18:48 NFSv4 pseudo-root
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  nic "net" {}
}

nfs "www" {
  server = vm.s
  path   = "/srv/www"
  # The thesis' /etc/exports had fsid=0; with it the clients' mount of
  # /srv/www fails.
  options = ["rw", "sync", "no_subtree_check", "fsid=0"]
}
