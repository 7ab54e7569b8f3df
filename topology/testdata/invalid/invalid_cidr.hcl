# want: 5:10 Invalid CIDR
lab "t" {}

network "net" {
  cidr = "10.1.0.0/33"
}
