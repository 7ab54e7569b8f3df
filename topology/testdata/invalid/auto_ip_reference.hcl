# want: 14:25 assigns automatically
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" {}
}

vm "b" {
  nic "net" { gateway = vm.a.ip }
}
