# want: 10:12 unit "MB" in "512MB" is ambiguous
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  memory = "512MB"
}
