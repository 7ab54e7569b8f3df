# want: 10:3 local.a → local.b → local.a
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

locals {
  a = local.b
  b = local.a
}
