# want: 10:12 memory needs a unit: write "512MiB"
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  memory = 512
}
