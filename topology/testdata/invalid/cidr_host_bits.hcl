# want: 5:10 has host bits set
lab "t" {}

network "net" {
  cidr = "10.1.0.5/24"
}
