# want: 10:20 host's address
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" { ip = "10.1.0.1" }
}
