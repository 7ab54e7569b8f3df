# want: 16:17 docroot = "/var/www/html>" contains '>'
# want: 17:17 health_path = "/health.html\"" is not a plain URL path
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "w" {
  nic "net" {}
}

web "site" {
  servers     = [vm.w]
  docroot     = "/var/www/html>"
  health_path = "/health.html\""
}
