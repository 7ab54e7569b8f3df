# want: 11:12 unknown unit "XB"
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  disk "d" {
    size = "1XB"
  }
}
