# want: 5:10 Did you mean "routed"?
lab "t" {}

network "net" {
  mode = "route"
  cidr = "10.1.0.0/24"
}
