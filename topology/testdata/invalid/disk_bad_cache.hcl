# want: 12:13 is not one of "default", "none"
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  disk "d" {
    size  = "1GiB"
    cache = "fast"
  }
}
