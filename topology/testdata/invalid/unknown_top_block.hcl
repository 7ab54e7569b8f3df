# want: 9:1 Did you mean "vm"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vms "a" {}
