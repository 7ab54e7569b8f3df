# want: 11:13 Did you mean "e1000"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" {
    model = "e100"
  }
}
