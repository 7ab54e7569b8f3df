# want: 3:21 management_cidr must be /24 or larger
lab "t" {
  management_cidr = "10.9.0.0/31"
}

vm "a" {}
