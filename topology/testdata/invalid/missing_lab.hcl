# want: 1:1 Missing lab block
network "net" {
  cidr = "10.1.0.0/24"
}
