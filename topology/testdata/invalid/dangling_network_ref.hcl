# want: 11:19 There is no network "nett". Did you mean "net"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" {
    ip = cidrhost(network.nett.cidr, 5)
  }
}
