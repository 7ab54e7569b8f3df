# want: 14:12 server is required and must not be null
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  nic "net" {}
}

nfs "x" {
  server = null
  path   = "/srv/x"
}
