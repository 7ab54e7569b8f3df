# want: 31:11 nfs_server on storage needs raid on storage
# no other errors
lab "t" {}

network "lan" {
  cidr = "10.1.0.0/24"
}

vm "storage" {
  nic "lan" { ip = "10.1.0.10" }
  raid "data" {
    level       = 1
    members     = 2
    member_size = "64MiB"
    mount       = "/srv/raid"
  }
}

vm "web" {
  nic "lan" { ip = "10.1.0.11" }
}

nfs "www" {
  server  = vm.storage
  path    = "/srv/raid/www"
  clients = [vm.web]
  mount   = "/var/www/html"
}

exercise "raid" {
  roles = ["raid"]
}
