# want: 9:1 vm.a → vm.b → vm.a
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" { ip = vm.b.ips.net }
}

vm "b" {
  nic "net" { ip = vm.a.ips.net }
}
