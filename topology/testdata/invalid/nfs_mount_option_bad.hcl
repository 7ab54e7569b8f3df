# want: 22:28 "vers=4.2 soft" in mount_options must be one word
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

nfs "www" {
  server        = vm.s
  path          = "/srv/www"
  clients       = [vm.c]
  options       = ["rw", "sync"]
  mount_options = ["hard", "vers=4.2 soft"]
}
