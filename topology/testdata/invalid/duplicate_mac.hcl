# want: 14:21 Duplicate MAC address
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" { mac = "52:54:00:00:00:01" }
}

vm "b" {
  nic "net" { mac = "52:54:00:00:00:01" }
}
