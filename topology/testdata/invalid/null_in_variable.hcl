# want: 13:11 roles[0] is null
lab "t" {}

variable "roles" {
  default = [null]
}

network "net" {
  cidr = "10.1.0.0/24"
}

vm "a" {
  roles = var.roles
  nic "net" {}
}
