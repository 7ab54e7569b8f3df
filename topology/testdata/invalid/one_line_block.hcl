# want: 4:31 one attribute per line
# want: 4:31 Write it as:
lab "t" {}
network "lan" { mode = "nat"  cidr = "10.1.0.0/24" }
