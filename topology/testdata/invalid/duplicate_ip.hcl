# want: 14:20 already used by vm "a"
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" { ip = "10.1.0.20" }
}

vm "b" {
  nic "net" { ip = "10.1.0.20" }
}
