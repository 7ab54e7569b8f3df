# want: 10:20 is the broadcast address
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" { ip = "10.1.0.255" }
}
