# want: 13:4 Duplicate VM name
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "web" {
  count = 2
}

vm "web-1" {}
