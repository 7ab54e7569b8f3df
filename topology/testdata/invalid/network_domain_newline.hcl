# want: 7:12 is not a DNS domain name
lab "t" {}

network "lan" {
  mode   = "nat"
  cidr   = "10.1.0.0/24"
  domain = "lab\n</domain><forward mode='open'/>"
}
