# want: 12:12 Did you mean "sata"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  disk "d" {
    size = "1GiB"
    bus  = "sato"
  }
}
