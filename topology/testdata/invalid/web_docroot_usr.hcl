# want: 15:13 inside the system directory /usr
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "w" {
  nic "net" {}
}

web "site" {
  servers = [vm.w]
  docroot = "/usr/share/www"
}
