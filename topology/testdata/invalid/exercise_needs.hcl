# want: 31:12 nfs_client on web needs nfs_server on storage
# want: 32:31 points has "bogus"
# want: 35:10 A lab has at most one exercise
lab "t" {}

network "lan" {
  cidr = "10.1.0.0/24"
}

vm "storage" {
  nic "lan" { ip = "10.1.0.10" }
}

vm "web" {
  nic "lan" { ip = "10.1.0.11" }
}

nfs "www" {
  server  = vm.storage
  path    = "/srv/www"
  clients = [vm.web]
  mount   = "/var/www/html"
}

web "site" {
  servers = [vm.web]
  content = nfs.www
}

exercise "a" {
  roles  = ["nfs_server"]
  points = { vip = 5, bogus = 3 }
}

exercise "b" {
  vms = [vm.web]
}
