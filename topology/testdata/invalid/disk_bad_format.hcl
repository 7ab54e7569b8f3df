# want: 12:14 Did you mean "qcow2"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  disk "d" {
    size   = "1GiB"
    format = "qcow"
  }
}
