# want: 10:10 template.a → template.b → template.a
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

template "a" {
  from = template.b
}

template "b" {
  from = template.a
}
