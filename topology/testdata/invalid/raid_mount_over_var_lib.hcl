# want: 15:19 would cover the system directory /var/lib/dpkg
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
    mount       = "/var/lib"
  }
}
