# want: 16:25 a VM has one default route
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

network "int" {
  mode = "nat"
  cidr = "10.2.0.0/24"
}

vm "a" {
  nic "net" { gateway = network.net.host_ip }
  nic "int" { gateway = network.int.host_ip }
}
