# want: 10:14 each attribute has its own line; write line 10 as:
lab "t" {}

network "lan" {
  cidr = "10.1.0.0/24"
}

lvs "www" { vip = "10.1.0.200" }
lvs "db" {
  port = 80  protocol = "tcp"
}
