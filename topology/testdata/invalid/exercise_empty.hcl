# want: 8:1 leaves nothing to the student
lab "t" {}

network "lan" {
  cidr = "10.1.0.0/24"
}

exercise "nothing" {
}
