# want: 21:14 vm.f has count = 2 (indexes 0 to 1)
# want: 29:14 must be a whole number from 0, got 1.5
# want: 33:19 vm.single is a single vm (no count)
lab "t" {}

variable "n" {
  default = 2
}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "f" {
  count = var.n
  nic "net" {}
}

vm "clone" {
  from = vm.f[5]
}

vm "single" {
  nic "net" {}
}

vm "bad-index" {
  from = vm.f[1.5]
}

vm "single-index" {
  from = vm.single[0]
}
