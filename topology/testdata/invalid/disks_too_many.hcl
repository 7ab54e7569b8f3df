# want: 9:1 PCI slots
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" {}

  disk "d0" {
    size = "1GiB"
  }

  disk "d1" {
    size = "1GiB"
  }

  disk "d2" {
    size = "1GiB"
  }

  disk "d3" {
    size = "1GiB"
  }

  disk "d4" {
    size = "1GiB"
  }

  disk "d5" {
    size = "1GiB"
  }

  disk "d6" {
    size = "1GiB"
  }

  disk "d7" {
    size = "1GiB"
  }

  disk "d8" {
    size = "1GiB"
  }

  disk "d9" {
    size = "1GiB"
  }

  disk "d10" {
    size = "1GiB"
  }

  disk "d11" {
    size = "1GiB"
  }

  disk "d12" {
    size = "1GiB"
  }

  disk "d13" {
    size = "1GiB"
  }

  disk "d14" {
    size = "1GiB"
  }

  disk "d15" {
    size = "1GiB"
  }

  disk "d16" {
    size = "1GiB"
  }

  disk "d17" {
    size = "1GiB"
  }

  disk "d18" {
    size = "1GiB"
  }

  disk "d19" {
    size = "1GiB"
  }

  disk "d20" {
    size = "1GiB"
  }

  disk "d21" {
    size = "1GiB"
  }

  disk "d22" {
    size = "1GiB"
  }

  disk "d23" {
    size = "1GiB"
  }

  disk "d24" {
    size = "1GiB"
  }

  disk "d25" {
    size = "1GiB"
  }

  disk "d26" {
    size = "1GiB"
  }

  disk "d27" {
    size = "1GiB"
  }

  disk "d28" {
    size = "1GiB"
  }

  disk "d29" {
    size = "1GiB"
  }
}
