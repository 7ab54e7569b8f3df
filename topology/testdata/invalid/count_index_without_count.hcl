# want: 10:52 only available in a vm block that sets count
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" { ip = cidrhost(network.net.cidr, 10 + count.index) }
}
