# want: 10:20 10.9.0.5 is not inside network "net"
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" { ip = "10.9.0.5" }
}
