# want: 9:9 Duplicate network
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

network "net" {
  cidr = "10.3.0.0/24"
}
