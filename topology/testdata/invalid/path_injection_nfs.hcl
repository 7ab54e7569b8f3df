# want: 18:19 mount = "/srv/data;reboot" contains ';'
# want: 29:13 contains '\n'; paths are written unquoted
# want: 31:13 mount = "/mnt/www 0 0" contains ' '
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
    member_size = "64MiB"
    mount       = "/srv/data;reboot"
  }
}

vm "c" {
  nic "net" {}
}

# A newline would add a second, world-writable export line to /etc/exports.
nfs "www" {
  server  = vm.s
  path    = "/srv/data/www\n/ *(rw,no_root_squash)"
  clients = [vm.c]
  mount   = "/mnt/www 0 0"
}
