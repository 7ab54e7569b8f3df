# want: 10:7 There is no network "nte". Did you mean "net"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "nte" {}
}
