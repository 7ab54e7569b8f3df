# want: 14:11 There is no variable "web_cnt". Did you mean "web_count"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

variable "web_count" {
  default = 2
}

vm "w" {
  count = var.web_cnt
}
