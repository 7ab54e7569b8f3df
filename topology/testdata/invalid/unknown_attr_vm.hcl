# want: 10:3 Did you mean "memory"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  memroy = "512MiB"
}
