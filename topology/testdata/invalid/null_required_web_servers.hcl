# want: 10:13 servers is required and must not be null
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

web "site" {
  servers = null
}
