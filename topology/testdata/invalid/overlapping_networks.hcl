# want: 10:10 overlaps network "net"
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

network "other" {
  cidr = "10.1.0.128/25"
}
