# want: 10:11 Did you mean "client"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  roles = ["clinet"]
}
